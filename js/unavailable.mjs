// Members of the one API (js/index.d.ts) that an entry lacks: the VirtualBuffer's browser-only
// members in the Node addon, the Node stream forms in the browser, the stream forms and async
// iteration in "omnibuf/worklet". Each entry defines them anyway, as stand-ins that throw (or, for a
// member that returns a Promise, reject with) the binding core's Error saying where the member
// exists, with Node's code for a feature the platform lacks (ERR_FEATURE_UNAVAILABLE_ON_PLATFORM):
// a program typed against index.d.ts learns why, instead of "... is not a function".

/** The numbers of the binding core's table (src/binding/message.rs, by_number). */
export const BROWSER_ONLY = 14;
export const NODE_ONLY = 15;
export const NOT_IN_WORKLET = 16;

/**
 * Defines on `target` (a class or a prototype) a stand-in for each of `members` (names or symbols)
 * that throws `bindingError(which, "<Class>.<member>()")`; `className` names it. A member `target`
 * has is left as it is: "omnibuf/worklet" and the browser entry share the threaded build's classes
 * where one realm imports both. Options:
 * `async: true` makes the stand-ins return rejected Promises; `check(receiver)`, called first, may
 * throw for a receiver of another class or one freed, as the member itself would.
 */
export function defineUnavailable(target, className, members, bindingError, which, { async = false, check } = {}) {
  for (const member of members) {
    if (member in target) continue;
    const name = typeof member === 'symbol' ? `[${member.description}]` : member;
    const label = typeof member === 'symbol' ? `${className}${name}()` : `${className}.${name}()`;
    const fail = (receiver) => {
      check?.(receiver);
      throw bindingError(which, label);
    };
    // Named as the member (a method's own name), with no prototype and no `new`, as methods are.
    const standIn = async ? { async [name]() { fail(this); } }[name] : { [name]() { fail(this); } }[name];
    Object.defineProperty(target, member, { value: standIn, writable: true, configurable: true });
  }
}
