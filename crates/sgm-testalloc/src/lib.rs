//! A counting global allocator for tests that bound memory (issue 10
//! item 8: peak memory while receiving a packet stays within a small
//! multiple of its size).
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: sgm_testalloc::Counting = sgm_testalloc::Counting::new();
//! let base = ALLOC.reset_peak();
//! work();
//! let peak_above_base = ALLOC.peak() - base;
//! ```
//!
//! It forwards every call to [`std::alloc::System`] and keeps two atomic
//! counters: bytes currently allocated and the peak since the last
//! [`Counting::reset_peak`]. Counters are process-wide: a test binary that
//! measures should run its measurements one at a time.
//!
//! This is the workspace's only `unsafe` code, isolated here because
//! `GlobalAlloc` is an unsafe trait; it is used only as a
//! dev-dependency.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A [`System`] allocator that counts current and peak heap bytes.
#[derive(Debug)]
pub struct Counting {
    current: AtomicUsize,
    peak: AtomicUsize,
}

impl Counting {
    /// A new counter (for a `static`).
    pub const fn new() -> Self {
        Self {
            current: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated now.
    pub fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    /// Highest [`Counting::current`] since the last reset.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Sets the peak to the current usage and returns it (the baseline of
    /// a measurement).
    pub fn reset_peak(&self) -> usize {
        let now = self.current();
        self.peak.store(now, Ordering::SeqCst);
        now
    }

    fn grew(&self, by: usize) {
        let now = self
            .current
            .fetch_add(by, Ordering::SeqCst)
            .saturating_add(by);
        self.peak.fetch_max(now, Ordering::SeqCst);
    }

    fn shrank(&self, by: usize) {
        self.current.fetch_sub(by, Ordering::SeqCst);
    }
}

impl Default for Counting {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counters do not touch the
// memory.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (the caller upholds `alloc`'s contract).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            self.grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (`ptr` came from this allocator, i.e.
        // from `System`, with `layout`).
        unsafe { System.dealloc(ptr, layout) };
        self.shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Both blocks exist during a moving realloc: count the new one
            // before the old one is released.
            self.grew(new_size);
            self.shrank(layout.size());
        }
        p
    }
}
