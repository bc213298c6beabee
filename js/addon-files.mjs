// The addon's VirtualBuffer takes file paths as Node's fs does, where the addon's own file I/O would
// otherwise differ from it:
// - Windows: a path goes to the system as fs passes it there, absolute and with the `\\?\` prefix
//   (path.toNamespacedPath), so that a name ending in a dot or a space, or a device's name (`NUL`,
//   `aux.txt`), names the file fs names rather than what Win32's own rules make of it (which drop
//   the dot, or open the device). toNamespacedPath() resolves the path first, and gives anything
//   else (not a string, an empty one) back as it is, for the addon's own TypeError.
// - Node's permission model (`--permission`; Node 20's `--experimental-permission`): it loads an
//   addon only with `--allow-addons`, and the addon's file I/O is outside its checks. So the members
//   that touch files check what fs would, and reject with fs's own error (ERR_ACCESS_DENIED, with
//   `permission` and `resource`): open() needs read access to the file; save() and saveAs() need
//   write access to the file's directory, where a save writes the new version before it replaces
//   the file.
import * as nodePath from 'node:path';

/** Installs both on the exported VirtualBuffer class (whose static members are its own). */
export function takePathsAsFs(VirtualBuffer) {
  if (process.platform === 'win32') namespacePaths(VirtualBuffer);
  if (process.permission !== undefined) checkPermissions(VirtualBuffer, process.permission);
}

function namespacePaths(VirtualBuffer) {
  const { open } = VirtualBuffer;
  const { saveAs } = VirtualBuffer.prototype;
  define(VirtualBuffer, {
    open(path, ...rest) {
      return Reflect.apply(open, this, [nodePath.toNamespacedPath(path), ...rest]);
    },
  });
  define(VirtualBuffer.prototype, {
    saveAs(path, ...rest) {
      return Reflect.apply(saveAs, this, [nodePath.toNamespacedPath(path), ...rest]);
    },
  });
}

function checkPermissions(VirtualBuffer, permission) {
  const { open } = VirtualBuffer;
  const { save, saveAs } = VirtualBuffer.prototype;
  // The file each buffer saves to, once open() or saveAs() has given it one. A buffer made from
  // bytes has none, and its save() gives the addon's own error.
  const files = new WeakMap();
  const isPath = (path) => typeof path === 'string' && path !== '';
  // Node's own error, its message as the running Node words it (Node 22 on names the flag).
  const denied = (scope, flag, resource) => {
    const hint = Number(process.versions.node.split('.')[0]) >= 22 ? `. Use --allow-fs-${flag} to manage permissions.` : '';
    return Object.assign(new Error(`Access to this API has been restricted${hint}`), { code: 'ERR_ACCESS_DENIED', permission: scope, resource });
  };
  const writable = (file) => {
    const directory = nodePath.dirname(nodePath.resolve(file));
    return permission.has('fs.write', directory) ? undefined : denied('FileSystemWrite', 'write', directory);
  };
  define(VirtualBuffer, {
    async open(path, ...rest) {
      if (isPath(path) && !permission.has('fs.read', path)) throw denied('FileSystemRead', 'read', nodePath.resolve(path));
      const buffer = await Reflect.apply(open, this, [path, ...rest]);
      files.set(buffer, path);
      return buffer;
    },
  });
  define(VirtualBuffer.prototype, {
    async save(...args) {
      const file = files.get(this);
      const refused = file === undefined ? undefined : writable(file);
      if (refused !== undefined) throw refused;
      return Reflect.apply(save, this, args);
    },
    async saveAs(path, ...rest) {
      const refused = isPath(path) ? writable(path) : undefined;
      if (refused !== undefined) throw refused;
      await Reflect.apply(saveAs, this, [path, ...rest]);
      files.set(this, path);
    },
  });
}

/** Replaces `target`'s members of the names in `methods` with them, keeping each member's attributes. */
function define(target, methods) {
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(target, name, { ...Object.getOwnPropertyDescriptor(target, name), value });
  }
}
