//! The process's allocator: the system's, with a bump arena for what is
//! built once and kept until exit.
//!
//! kbuild runs ksymrules once per object, and most objects are a few KB.
//! Building the embedded default rules makes about 500 allocations that
//! are never freed, and malloc's bookkeeping for them was a sixth of such
//! a run's instructions. Inside [`Arena::scope`], pieces are handed out
//! from a static arena by moving a pointer; freeing one gives back only
//! the newest piece, and the others stay until the process exits. Outside
//! a scope, when the arena is full, or for a piece larger than `N / 4`,
//! the system allocator serves, as it frees whatever it gave.
//!
//! The arena lives in `.bss`: pages that are never touched cost nothing.
//! (A bump arena for a whole run was tried: it makes fewer instructions but
//! faults in more pages than malloc, which reuses what is freed, and a
//! page fault costs as much as thousands of instructions.)
//!
//! ```text
//!   base                        top                            base + N
//!   | a | b | (c freed, kept) | d |  free ...                         |
//!                                ^ dealloc(d) moves top back to here
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A bump arena of `N` bytes beside [`System`].
pub struct Arena<const N: usize> {
    /// Whether new pieces come from the arena (see `scope`).
    active: AtomicBool,
    /// Bytes in use from the start of `mem`.
    top: AtomicUsize,
    mem: UnsafeCell<[u8; N]>,
}

// SAFETY: `mem` is only reached through the pieces `alloc` hands out,
// which are disjoint: `top` is moved by compare-and-swap.
unsafe impl<const N: usize> Sync for Arena<N> {}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Arena<N> {
    /// Pieces larger than this always go to the system.
    const LARGEST: usize = N / 4;

    pub const fn new() -> Self {
        Arena {
            active: AtomicBool::new(false),
            top: AtomicUsize::new(0),
            mem: UnsafeCell::new([0; N]),
        }
    }

    fn base(&self) -> *mut u8 {
        self.mem.get().cast()
    }

    /// The offset of `ptr` in the arena, if it is in it.
    fn offset(&self, ptr: *mut u8) -> Option<usize> {
        let off = (ptr as usize).wrapping_sub(self.base() as usize);
        (off < N).then_some(off)
    }

    /// Runs `f` with new pieces taken from the arena while it has room:
    /// for what lives until the process exits (any thread's allocations
    /// during `f` are; they stay valid, they are just not reused).
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Reset<'a>(&'a AtomicBool, bool);
        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                self.0.store(self.1, Ordering::Relaxed);
            }
        }
        let _reset = Reset(&self.active, self.active.swap(true, Ordering::Relaxed));
        f()
    }

    /// A piece of the arena, if in a scope and it has room.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        if !self.active.load(Ordering::Relaxed) || layout.size() > Self::LARGEST {
            return None;
        }
        let base = self.base() as usize;
        let mut top = self.top.load(Ordering::Acquire);
        loop {
            // Align the address, not the offset: `mem` is only byte-aligned.
            let start = (base + top).checked_next_multiple_of(layout.align())? - base;
            let end = start.checked_add(layout.size())?;
            if end > N {
                return None;
            }
            match self
                .top
                .compare_exchange_weak(top, end, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: start + size <= N, within `mem`.
                Ok(_) => return Some(unsafe { self.base().add(start) }),
                Err(now) => top = now,
            }
        }
    }

    /// Gives back the piece at `off` of `size` bytes if it is the newest.
    fn unbump(&self, off: usize, size: usize) -> bool {
        self.top
            .compare_exchange(off + size, off, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Bytes of the arena in use.
    #[cfg(test)]
    fn used(&self) -> usize {
        self.top.load(Ordering::Acquire)
    }

    #[cfg(test)]
    fn set_active(&self, on: bool) {
        self.active.store(on, Ordering::Relaxed);
    }
}

// SAFETY: pieces are disjoint, aligned as asked, and live until freed:
// the arena's are never handed out twice while in use (`unbump` only takes
// back the newest), the system's are the system's.
unsafe impl<const N: usize> GlobalAlloc for Arena<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(p) => p,
            // SAFETY: the caller's layout, passed on.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(p) => {
                // SAFETY: a fresh piece of `layout.size()` bytes (it may
                // have been used and given back before).
                unsafe { p.write_bytes(0, layout.size()) };
                p
            }
            // SAFETY: the caller's layout, passed on.
            None => unsafe { System.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match self.offset(ptr) {
            Some(off) => {
                self.unbump(off, layout.size());
            }
            // SAFETY: not the arena's, so the system's.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(off) = self.offset(ptr) else {
            // SAFETY: not the arena's, so the system's.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        // The newest piece grows or shrinks where it is (in a scope).
        if self.active.load(Ordering::Relaxed)
            && new_size <= Self::LARGEST
            && off + new_size <= N
            && self
                .top
                .compare_exchange(
                    off + layout.size(),
                    off + new_size,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            return ptr;
        }
        // SAFETY: the caller promises new_size is valid for the alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both pieces hold at least the bytes copied, and are
            // disjoint (the old one is still in use).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            self.unbump(off, layout.size());
        }
        new
    }
}

#[cfg(test)]
mod tests;
