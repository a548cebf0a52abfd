use super::*;
use proptest::prelude::*;

/// A live piece: where, its layout, and the byte it was filled with.
struct Piece {
    ptr: *mut u8,
    layout: Layout,
    fill: u8,
}

fn check(p: &Piece) {
    assert_eq!(p.ptr as usize % p.layout.align(), 0, "misaligned piece");
    // SAFETY: a live piece of `layout.size()` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(p.ptr, p.layout.size()) };
    assert!(
        bytes.iter().all(|&b| b == p.fill),
        "a piece's bytes changed under it"
    );
}

fn fill(p: &Piece) {
    // SAFETY: a live piece of `layout.size()` bytes.
    unsafe { p.ptr.write_bytes(p.fill, p.layout.size()) };
}

#[derive(Debug, Clone)]
enum Op {
    /// Pieces from here on come from the arena (`scope`) or not.
    Scope(bool),
    Alloc {
        size: usize,
        align_log: u32,
    },
    Zeroed {
        size: usize,
    },
    Free(usize),
    Realloc(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<bool>().prop_map(Op::Scope),
        (1usize..1500, 0u32..7).prop_map(|(size, align_log)| Op::Alloc { size, align_log }),
        (1usize..600).prop_map(|size| Op::Zeroed { size }),
        any::<usize>().prop_map(Op::Free),
        (any::<usize>(), 1usize..1500).prop_map(|(i, n)| Op::Realloc(i, n)),
    ]
}

proptest! {
    /// Whatever the order of allocations, frees and reallocations, in a
    /// scope or not, in the arena or past it: pieces are aligned, disjoint
    /// (each keeps the byte it was filled with), keep their contents
    /// through realloc, and zeroed ones are zero.
    #[test]
    fn pieces_stay_apart(ops in proptest::collection::vec(op(), 1..80)) {
        let arena = Box::new(Arena::<4096>::new());
        arena.set_active(true);
        let mut live: Vec<Piece> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            let tag = (n % 250) as u8 + 1;
            match op {
                Op::Scope(on) => arena.set_active(on),
                Op::Alloc { size, align_log } => {
                    let layout = Layout::from_size_align(size, 1 << align_log).unwrap();
                    // SAFETY: a non-zero size.
                    let ptr = unsafe { arena.alloc(layout) };
                    prop_assert!(!ptr.is_null());
                    let p = Piece { ptr, layout, fill: tag };
                    fill(&p);
                    live.push(p);
                }
                Op::Zeroed { size } => {
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    // SAFETY: a non-zero size.
                    let ptr = unsafe { arena.alloc_zeroed(layout) };
                    let p = Piece { ptr, layout, fill: 0 };
                    check(&p);
                    let p = Piece { fill: tag, ..p };
                    fill(&p);
                    live.push(p);
                }
                Op::Free(i) if !live.is_empty() => {
                    let p = live.swap_remove(i % live.len());
                    check(&p);
                    // SAFETY: a live piece with its layout.
                    unsafe { arena.dealloc(p.ptr, p.layout) };
                }
                Op::Realloc(i, size) if !live.is_empty() => {
                    let i = i % live.len();
                    let old = &live[i];
                    check(old);
                    // SAFETY: a live piece with its layout; a non-zero size.
                    let ptr = unsafe { arena.realloc(old.ptr, old.layout, size) };
                    prop_assert!(!ptr.is_null());
                    let layout = Layout::from_size_align(size, old.layout.align()).unwrap();
                    let kept = Piece { ptr, layout: Layout::from_size_align(size.min(old.layout.size()), layout.align()).unwrap(), fill: old.fill };
                    check(&kept);
                    live[i] = Piece { ptr, layout, fill: tag };
                    fill(&live[i]);
                }
                _ => {}
            }
            for p in &live {
                check(p);
            }
        }
        for p in live.drain(..).rev() {
            // SAFETY: a live piece with its layout.
            unsafe { arena.dealloc(p.ptr, p.layout) };
        }
    }
}

#[test]
fn the_newest_piece_is_given_back_and_grows_in_place() {
    let arena = Box::new(Arena::<4096>::new());
    arena.set_active(true);
    let l8 = Layout::from_size_align(8, 8).unwrap();
    // SAFETY: non-zero sizes; each piece freed with its layout.
    unsafe {
        let a = arena.alloc(l8);
        let b = arena.alloc(l8);
        assert_eq!(arena.used(), 16);
        let b2 = arena.realloc(b, l8, 100);
        assert_eq!(b2, b, "the newest piece grows where it is");
        assert_eq!(arena.used(), 108);
        arena.dealloc(b2, Layout::from_size_align(100, 8).unwrap());
        assert_eq!(arena.used(), 8);
        // Not the newest: kept until the end.
        let c = arena.alloc(l8);
        arena.dealloc(a, l8);
        assert_eq!(arena.used(), 16);
        arena.dealloc(c, l8);
        assert_eq!(arena.used(), 8);
    }
}

#[test]
fn large_pieces_and_overflow_go_to_the_system() {
    let arena = Box::new(Arena::<4096>::new());
    arena.set_active(true);
    let inside = |p: *mut u8| arena.offset(p).is_some();
    // SAFETY: non-zero sizes; each piece freed with its layout.
    unsafe {
        let big = Layout::from_size_align(2000, 8).unwrap();
        let p = arena.alloc(big);
        assert!(!inside(p), "a piece over N/4 is the system's");
        arena.dealloc(p, big);
        let l = Layout::from_size_align(1000, 8).unwrap();
        let pieces: Vec<_> = (0..5).map(|_| arena.alloc(l)).collect();
        assert_eq!(
            pieces.iter().map(|&p| inside(p)).collect::<Vec<_>>(),
            [true, true, true, true, false],
            "the fifth does not fit"
        );
        // The newest arena piece, grown past the arena: moved to the
        // system, its bytes with it.
        pieces[3].write_bytes(7, 1000);
        let moved = arena.realloc(pieces[3], l, 3000);
        assert!(!inside(moved));
        assert!(std::slice::from_raw_parts(moved, 1000)
            .iter()
            .all(|&b| b == 7));
        assert_eq!(arena.used(), 3000, "and its room given back");
        arena.dealloc(moved, Layout::from_size_align(3000, 8).unwrap());
        for (i, &p) in pieces.iter().enumerate() {
            if i != 3 {
                arena.dealloc(p, l);
            }
        }
    }
}

#[test]
fn threads_get_disjoint_pieces() {
    static ARENA: Arena<{ 1 << 16 }> = Arena::new();
    ARENA.scope(|| {
        std::thread::scope(|s| {
            for t in 0..4u8 {
                s.spawn(move || {
                    let mut live = Vec::new();
                    for n in 0..2000usize {
                        let layout = Layout::from_size_align(1 + n % 97, 1 << (n % 4)).unwrap();
                        // SAFETY: a non-zero size.
                        let ptr = unsafe { ARENA.alloc(layout) };
                        let p = Piece {
                            ptr,
                            layout,
                            fill: t + 1,
                        };
                        fill(&p);
                        live.push(p);
                        if n % 3 == 0 {
                            let p = live.pop().unwrap();
                            check(&p);
                            // SAFETY: a live piece with its layout.
                            unsafe { ARENA.dealloc(p.ptr, p.layout) };
                        }
                    }
                    for p in live {
                        check(&p);
                        // SAFETY: a live piece with its layout.
                        unsafe { ARENA.dealloc(p.ptr, p.layout) };
                    }
                });
            }
        })
    });
}

#[test]
fn outside_a_scope_pieces_are_the_systems() {
    let arena = Box::new(Arena::<4096>::new());
    let l = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: non-zero sizes; each piece freed with its layout.
    unsafe {
        let outside = arena.alloc(l);
        let (inside, grown) = arena.scope(|| {
            let p = arena.alloc(l);
            // A scope's newest piece grows in place only in the scope.
            (p, arena.realloc(p, l, 128))
        });
        assert!(arena.offset(outside).is_none());
        assert_eq!(arena.offset(inside), Some(0));
        assert_eq!(grown, inside);
        let l128 = Layout::from_size_align(128, 8).unwrap();
        let moved = arena.realloc(grown, l128, 256);
        assert!(
            arena.offset(moved).is_none(),
            "after the scope: the system's"
        );
        assert_eq!(arena.used(), 0, "and the arena piece given back");
        arena.dealloc(moved, Layout::from_size_align(256, 8).unwrap());
        arena.dealloc(outside, l);
        // Scopes nest: the outer one is still on after the inner one.
        arena.scope(|| {
            arena.scope(|| {});
            let p = arena.alloc(l);
            assert!(arena.offset(p).is_some());
            arena.dealloc(p, l);
        });
    }
}
