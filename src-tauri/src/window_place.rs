//! Where the main window opens: where the last one closed (size and place, kept while the
//! app runs), unless that place is no longer on any screen. Pure, so the bookkeeping is
//! tested without a window system; `window.rs` feeds it what the windowing system says.

use std::sync::Mutex;

use wa_client::mutex::lock;

/// The size a first window opens at, in logical pixels.
pub const DEFAULT_SIZE: (f64, f64) = (980.0, 700.0);
/// The smallest window the layout works in, in logical pixels.
pub const MIN_SIZE: (f64, f64) = (720.0, 520.0);
/// How much of a window's top edge (where the title bar is) must be on a screen for the
/// window to count as reachable: enough to grab and drag it.
const GRAB: (f64, f64) = (100.0, 30.0);

/// A rectangle in logical pixels: a window's outer place and inner size, or a screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    fn overlap(&self, other: &Rect) -> (f64, f64) {
        let w = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let h = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        (w.max(0.0), h.max(0.0))
    }
}

/// How the next window opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Opening {
    /// The default size, placed by the window manager.
    Fresh { width: f64, height: f64 },
    /// At this place and size.
    At(Rect),
}

/// The last window's place, recorded when it closes, while the app runs.
#[derive(Debug, Default)]
pub struct LastPlace(Mutex<Option<Rect>>);

impl LastPlace {
    /// Records where the window was as it closed; a size below the minimum (the platform
    /// reporting a window not yet laid out) is not a place to come back to.
    pub fn closed_at(&self, place: Rect) {
        if place.width >= 1.0 && place.height >= 1.0 {
            *lock(&self.0) = Some(place);
        }
    }

    /// How the next window opens, given the screens there are now (empty where the platform
    /// cannot tell).
    pub fn opening(&self, screens: &[Rect]) -> Opening {
        opening(*lock(&self.0), screens)
    }
}

/// The policy: the last place if there was one and its top edge is still on a screen; the
/// last size on the first screen if its place is gone (a monitor unplugged); else the
/// default. Sizes never go below the minimum nor beyond the screen they land on.
pub fn opening(last: Option<Rect>, screens: &[Rect]) -> Opening {
    let Some(last) = last else {
        return Opening::Fresh {
            width: DEFAULT_SIZE.0,
            height: DEFAULT_SIZE.1,
        };
    };
    let mut place = Rect {
        width: last.width.max(MIN_SIZE.0),
        height: last.height.max(MIN_SIZE.1),
        ..last
    };
    let Some(first) = screens.first() else {
        return Opening::At(place);
    };
    let top_edge = Rect {
        height: GRAB.1,
        ..place
    };
    let reachable = screens.iter().any(|s| {
        let (w, h) = top_edge.overlap(s);
        w >= GRAB.0.min(place.width) && h >= GRAB.1
    });
    if !reachable {
        place.width = place.width.min(first.width).max(MIN_SIZE.0);
        place.height = place.height.min(first.height).max(MIN_SIZE.1);
        place.x = first.x + ((first.width - place.width) / 2.0).max(0.0);
        place.y = first.y + ((first.height - place.height) / 2.0).max(0.0);
    }
    Opening::At(place)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: f64, y: f64, width: f64, height: f64) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    const SCREEN: Rect = Rect {
        x: 0.0,
        y: 0.0,
        width: 1920.0,
        height: 1080.0,
    };
    const RIGHT: Rect = Rect {
        x: 1920.0,
        y: 0.0,
        width: 1280.0,
        height: 1024.0,
    };

    #[test]
    fn where_the_next_window_opens() {
        let fresh = Opening::Fresh {
            width: 980.0,
            height: 700.0,
        };
        let table: &[(&str, Option<Rect>, &[Rect], Opening)] = &[
            ("first window", None, &[SCREEN], fresh),
            ("first window, screens unknown", None, &[], fresh),
            (
                "back where it closed",
                Some(rect(300.0, 200.0, 1000.0, 760.0)),
                &[SCREEN],
                Opening::At(rect(300.0, 200.0, 1000.0, 760.0)),
            ),
            (
                "screens unknown: trusted as it was",
                Some(rect(5000.0, 200.0, 1000.0, 760.0)),
                &[],
                Opening::At(rect(5000.0, 200.0, 1000.0, 760.0)),
            ),
            (
                "on the second screen while it is there",
                Some(rect(2100.0, 100.0, 900.0, 600.0)),
                &[SCREEN, RIGHT],
                Opening::At(rect(2100.0, 100.0, 900.0, 600.0)),
            ),
            (
                "second screen gone: same size, centred on the first",
                Some(rect(2100.0, 100.0, 900.0, 600.0)),
                &[SCREEN],
                Opening::At(rect(510.0, 240.0, 900.0, 600.0)),
            ),
            (
                "mostly off the left edge but the title bar can be grabbed",
                Some(rect(-850.0, 50.0, 980.0, 700.0)),
                &[SCREEN],
                Opening::At(rect(-850.0, 50.0, 980.0, 700.0)),
            ),
            (
                "title bar above the screen: moved back",
                Some(rect(100.0, -400.0, 980.0, 700.0)),
                &[SCREEN],
                Opening::At(rect(470.0, 190.0, 980.0, 700.0)),
            ),
            (
                "bigger than the screen it lands on: shrunk to it",
                Some(rect(3500.0, 0.0, 2400.0, 1400.0)),
                &[SCREEN],
                Opening::At(rect(0.0, 0.0, 1920.0, 1080.0)),
            ),
            (
                "below the minimum: the minimum",
                Some(rect(10.0, 10.0, 300.0, 200.0)),
                &[SCREEN],
                Opening::At(rect(10.0, 10.0, 720.0, 520.0)),
            ),
        ];
        for (name, last, screens, want) in table {
            assert_eq!(opening(*last, screens), *want, "{name}");
        }
    }

    #[test]
    fn the_place_a_window_closed_at_is_the_next_ones() {
        let last = LastPlace::default();
        assert!(matches!(last.opening(&[SCREEN]), Opening::Fresh { .. }));
        last.closed_at(rect(40.0, 60.0, 1100.0, 800.0));
        assert_eq!(
            last.opening(&[SCREEN]),
            Opening::At(rect(40.0, 60.0, 1100.0, 800.0))
        );
        // Closed again elsewhere: the newer place wins.
        last.closed_at(rect(400.0, 300.0, 800.0, 600.0));
        assert_eq!(
            last.opening(&[SCREEN]),
            Opening::At(rect(400.0, 300.0, 800.0, 600.0))
        );
        // A window the platform reports as 0 × 0 leaves the last good place.
        last.closed_at(rect(0.0, 0.0, 0.0, 0.0));
        assert_eq!(
            last.opening(&[SCREEN]),
            Opening::At(rect(400.0, 300.0, 800.0, 600.0))
        );
    }
}
