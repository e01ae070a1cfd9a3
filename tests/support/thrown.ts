/**
 * The error a synchronous call throws, checked to be of the expected class,
 * for tests that then assert its message or fields. Fails the test when the
 * call throws nothing or something else.
 */
import { expect } from "chai";

export function thrownBy<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
    try {
        fn();
    } catch (err) {
        expect(err).to.be.instanceOf(type);
        return err as E;
    }
    expect.fail(`expected a ${type.name}`);
}
