/**
 * Headless Chromium for tests that check what a person sees: Debian's
 * `chromium` package (installed by .ci/run when missing), driven by
 * playwright-core, whose own browser downloads cannot work here. A missing
 * browser FAILS the test that asks for one, naming the fix; it never skips.
 *
 * Each browser gets a fresh profile directory (removed on close) and no
 * network: background networking, component updates and sync are off, and
 * every request a page makes other than to itself is answered by an abort,
 * so a page that tries to load an external image, font or sheet shows it in
 * {@link RenderedPage.externalRequests}.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** The Chromium executable: `$CHROMIUM_PATH`, else the first of Debian's and other common paths that exists. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
    const candidates = [env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter((p): p is string => !!p);
    const found = candidates.find((p) => fs.existsSync(p));
    if (!found) {
        throw new Error(`no Chromium found (looked at ${candidates.join(", ")}): install Debian's package with 'apt-get install chromium' (.ci/run does), or set CHROMIUM_PATH`);
    }
    return found;
}

/** The flags every test browser is launched with. */
export const CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
];

/** A page as rendered at one width. */
export interface RenderedPage {
    page: Page;
    /** URLs the page tried to load from anywhere but itself (refused). */
    externalRequests: string[];
}

/** What a page's layout says about its width. */
export interface PageLayout {
    /** The viewport's width in CSS pixels. */
    viewportWidth: number;
    /** The document's and the body's scroll widths: more than the viewport means horizontal scrolling. */
    scrollWidth: number;
    bodyScrollWidth: number;
    /** Elements whose box ends past the viewport's right edge. */
    overflowing: Array<{ tag: string; right: number; text: string }>;
}

// The page-side scripts are strings: the tests compile without the DOM's types.
const LAYOUT = `(() => {
    const vw = document.documentElement.clientWidth;
    const overflowing = [...document.body.querySelectorAll("*")]
        .map((el) => ({ tag: el.tagName, right: el.getBoundingClientRect().right, text: (el.textContent || "").slice(0, 40) }))
        .filter((r) => r.right > vw + 0.5);
    return { viewportWidth: vw, scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth, overflowing };
})()`;

/** The page's layout widths (see {@link PageLayout}). */
export function layoutOf(page: Page): Promise<PageLayout> {
    return page.evaluate(LAYOUT) as Promise<PageLayout>;
}

/** The text a reader sees (`innerText`: hidden elements left out). */
export function visibleText(page: Page): Promise<string> {
    return page.evaluate("document.body.innerText") as Promise<string>;
}

/** Every link: its `href` as written and its visible text. */
export function linksOf(page: Page): Promise<Array<{ href: string | null; text: string }>> {
    return page.evaluate(`[...document.querySelectorAll("a")].map((a) => ({ href: a.getAttribute("href"), text: a.innerText.trim() }))`) as Promise<Array<{ href: string | null; text: string }>>;
}

/** The value of an attribute of the first element matching a selector, or null. */
export function attributeOf(page: Page, selector: string, attribute: string): Promise<string | null> {
    return page.evaluate(`(document.querySelector(${JSON.stringify(selector)}) || { getAttribute: () => null }).getAttribute(${JSON.stringify(attribute)})`) as Promise<string | null>;
}

/** How many elements match a selector. */
export function countOf(page: Page, selector: string): Promise<number> {
    return page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`) as Promise<number>;
}

/** One headless Chromium with a fresh profile directory. */
export class TestBrowser {
    private constructor(
        private readonly context: BrowserContext,
        private readonly profileDir: string,
    ) {}

    static async launch(): Promise<TestBrowser> {
        const executablePath = chromiumPath();
        const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-chromium-"));
        try {
            const context = await chromium.launchPersistentContext(profileDir, {
                executablePath,
                headless: true,
                args: CHROMIUM_FLAGS,
                timeout: 60_000,
                offline: true,
            });
            return new TestBrowser(context, profileDir);
        } catch (err) {
            fs.rmSync(profileDir, { recursive: true, force: true });
            throw new Error(`cannot start Chromium at ${executablePath}: ${err instanceof Error ? err.message : String(err)}`);
        }
    }

    /** Renders an HTML document in a fresh page `width` CSS pixels wide. */
    async render(html: string, width: number, height = 900): Promise<RenderedPage> {
        const page = await this.context.newPage();
        await page.setViewportSize({ width, height });
        const externalRequests: string[] = [];
        await page.route("**/*", (route) => {
            externalRequests.push(route.request().url());
            return route.abort();
        });
        await page.setContent(html, { waitUntil: "load" });
        return { page, externalRequests };
    }

    async close(): Promise<void> {
        try {
            await this.context.close();
        } finally {
            fs.rmSync(this.profileDir, { recursive: true, force: true });
        }
    }
}
