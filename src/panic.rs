//! What a panic does in the `no_std` build (the npm package's wasm): it calls the hook the
//! bindings registered with [`set_panic_hook`] (which tells every JS client that the
//! instance is gone), then traps. No message is formatted: that would link `core::fmt`'s
//! machinery and every panic location's file name into the wasm.
//!
//! With the `std` feature std's own panic handling applies, and the hook is not called.

use core::cell::Cell;

use js_sys::Function;

/// The registered hook, taken when called: a panic inside it traps at once.
struct Hook(Cell<Option<Function>>);

// SAFETY: only compiled for wasm without the `atomics` target feature, where there is one
// thread: the cell is never shared between threads.
#[allow(unsafe_code)]
unsafe impl Sync for Hook {}

static HOOK: Hook = Hook(Cell::new(None));

/// Registers `hook`, called with no arguments when the `no_std` build panics, just before
/// the instance traps (replacing any hook registered before). For the npm package's
/// bindings; builds with the `std` feature never call it.
#[doc(hidden)]
pub fn set_panic_hook(hook: Function) {
    HOOK.0.set(Some(hook));
}

#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    if let Some(hook) = HOOK.0.take() {
        let _ = hook.call0(&wasm_bindgen::JsValue::NULL);
    }
    core::arch::wasm32::unreachable()
}
