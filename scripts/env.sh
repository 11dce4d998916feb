# Sourced by the Makefile's recipes: the toolchain that builds both the server and the wasm client.
# Debian's rustc-web (1.96) comes first; rustup's proxies in ~/.cargo/bin would pick an older rustc.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="/usr/bin:$HOME/.cargo/bin:$_root/node_modules/.bin:$PATH"
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
# lets Debian's stable cargo build the wasm32 std from source (-Zbuild-std)
export RUSTC_BOOTSTRAP=1
# one warm target directory outside the clone, shared by every checkout on this machine
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/subgate/target}"
unset _root
