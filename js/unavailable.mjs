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

/** The number of the table's error of a receiver of another class. */
const WRONG_RECEIVER = 0;

/**
 * Defines on `target` (a class or a prototype) a stand-in for each of `members` (names or symbols)
 * that throws `bindingError(which, "<Class>.<member>()")`; `className` names it. A member `target`
 * has is left as it is. Options: `async: true` makes the stand-ins return rejected Promises;
 * `brand`, a getter of the class's (for members of its prototype), is called first, so that a
 * receiver of another class gets the member's TypeError (ERR_INVALID_THIS) and a freed one its
 * Error, as the member itself would give them.
 */
export function defineUnavailable(target, className, members, bindingError, which, { async = false, brand } = {}) {
  for (const member of members) {
    if (member in target) continue;
    const name = typeof member === 'symbol' ? `[${member.description}]` : member;
    const label = typeof member === 'symbol' ? `${className}${name}()` : `${className}.${name}()`;
    const fail = (receiver) => {
      if (brand !== undefined) {
        try {
          Reflect.apply(brand, receiver, []);
        } catch (error) {
          throw error?.code === 'ERR_INVALID_THIS' ? bindingError(WRONG_RECEIVER, className, name) : error;
        }
      }
      throw bindingError(which, label);
    };
    // Named as the member (a method's own name), with no prototype and no `new`, as methods are.
    const standIn = async ? { async [name]() { fail(this); } }[name] : { [name]() { fail(this); } }[name];
    Object.defineProperty(target, member, { value: standIn, writable: true, configurable: true });
  }
}

/** The getter `name` of `cls.prototype`, for `brand` above. */
export const getterOf = (cls, name) => Object.getOwnPropertyDescriptor(cls.prototype, name).get;
