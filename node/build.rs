//! Node-API link settings (on macOS the addon's symbols resolve against the loading `node` binary).

fn main() {
    napi_build::setup();
}
