//! The lab's own address block for servers that need fixed ports (443 and 80 for Autodiscover).
//!
//! Slot `k` (0..=99) is `127.(10+k).0.0/16`. A lab claims a slot with an `flock` on
//! `$TMPDIR/migcheck-lab/slots/<k>.lock` and holds it for its whole life, so two labs (in one
//! process or in two) never bind the same addresses. The kernel releases the lock when the process
//! dies, so a crashed test never leaks a slot.

use std::fs::{File, OpenOptions};
use std::net::Ipv4Addr;
use std::path::Path;

use crate::{LabError, sys};

/// How many slots there are.
pub(crate) const SLOTS: u8 = 100;
/// The second octet of slot 0.
const FIRST_OCTET: u8 = 10;

/// A claimed slot; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct Slot {
    k: u8,
    _lock: File,
}

impl Slot {
    pub(crate) fn index(&self) -> u8 {
        self.k
    }

    /// The second octet of every address of this slot.
    pub(crate) fn octet(&self) -> u8 {
        FIRST_OCTET + self.k
    }

    pub(crate) fn ip(&self, third: u8, fourth: u8) -> Ipv4Addr {
        Ipv4Addr::new(127, self.octet(), third, fourth)
    }

    pub(crate) fn cidr(&self) -> String {
        format!("127.{}.0.0/16", self.octet())
    }
}

/// Claims the first free slot under `base` (the lab's temporary root).
pub(crate) fn claim(base: &Path) -> Result<Slot, LabError> {
    let dir = base.join("slots");
    std::fs::create_dir_all(&dir).map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
    for k in 0..SLOTS {
        let path = dir.join(format!("{k}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| LabError::io(format!("opening {}", path.display()), e))?;
        if sys::try_flock(&file).map_err(|e| LabError::io(format!("locking {}", path.display()), e))? {
            return Ok(Slot { k, _lock: file });
        }
    }
    Err(LabError::Setup(format!(
        "all {SLOTS} lab address slots (127.10.0.0/16 .. 127.109.0.0/16) are taken: {} locks are held by running labs",
        dir.display()
    )))
}
