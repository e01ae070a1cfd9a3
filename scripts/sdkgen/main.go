// Command sdkgen writes the Python and Go SDKs of the azure-email-invoicing
// provider plugin from its Pulumi package schema, by calling the generators
// of github.com/pulumi/pulumi/pkg/v3 (codegen/python and codegen/go)
// directly.
//
// Why not `pulumi package gen-sdk`: it runs the generators inside the
// language plugins (pulumi-language-python, pulumi-language-go), and the Go
// module proxy does not serve those. The generators are the same code.
// .NET's generator lives in the pulumi-dotnet repository, which the proxy
// does not serve either, so there is no .NET SDK.
//
//	sdkgen -schema schema.json -out sdk [-lang python,go]
//
// Each language's folder under -out (sdk/python, sdk/go) is replaced as a
// whole, so a file the generator no longer writes disappears.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool is what the generated files name as their generator.
const tool = "azure-email-invoicing-sdkgen"

// noReferences is the schema loader: our schema refers to no other package,
// so any request to load one is an error in the schema.
type noReferences struct{}

func (noReferences) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema refers to package %q; it must be self-contained", pkg)
}

func (noReferences) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema refers to package %q; it must be self-contained", d.Name)
}

func (n noReferences) LoadPackageReference(pkg string, v *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema refers to package %q; it must be self-contained", pkg)
}

func (n noReferences) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema refers to package %q; it must be self-contained", d.Name)
}

func main() {
	schemaPath := flag.String("schema", "", "the Pulumi package schema (JSON)")
	out := flag.String("out", "", "the folder that receives <lang>/ for each language")
	langs := flag.String("lang", "python,go", "comma-separated languages: python, go")
	flag.Parse()
	if *schemaPath == "" || *out == "" {
		fail("usage: sdkgen -schema schema.json -out DIR [-lang python,go]")
	}
	raw, err := os.ReadFile(*schemaPath)
	if err != nil {
		fail("reading the schema: %v", err)
	}
	var loader schema.ReferenceLoader = noReferences{}
	for _, lang := range strings.Split(*langs, ",") {
		// Each generator imports its own language section into the package,
		// so each binds a fresh copy of the spec.
		var spec schema.PackageSpec
		if err := json.Unmarshal(raw, &spec); err != nil {
			fail("%s is not a package schema: %v", *schemaPath, err)
		}
		pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
		if err != nil {
			fail("binding the schema: %v", err)
		}
		if diags.HasErrors() {
			fail("the schema is not valid:\n%v", diags)
		}
		var files map[string][]byte
		switch lang {
		case "python":
			files, err = python.GeneratePackage(tool, pkg, nil, loader)
		case "go":
			files, err = gogen.GeneratePackage(tool, pkg, nil)
		default:
			fail("unknown language %q (python, go)", lang)
		}
		if err != nil {
			fail("generating the %s SDK: %v", lang, err)
		}
		if err := replaceFolder(filepath.Join(*out, lang), files); err != nil {
			fail("writing the %s SDK: %v", lang, err)
		}
		fmt.Fprintf(os.Stderr, "sdkgen: %s: %d files in %s\n", lang, len(files), filepath.Join(*out, lang))
	}
}

// replaceFolder writes files into a new folder next to dir and swaps it in.
func replaceFolder(dir string, files map[string][]byte) error {
	tmp := dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sdkgen: "+format+"\n", args...)
	os.Exit(1)
}
