//! What a descriptor is ready for at this instant: poll(2) with a zero timeout, for the
//! checks that must never wait (is a pipe drained, has a peer hung up, is there room).

use std::os::fd::BorrowedFd;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// The events of `fd` that are ready now, among `events` (plus HUP and ERR, which poll
/// always reports).
pub fn now(fd: BorrowedFd<'_>, events: PollFlags) -> rustix::io::Result<PollFlags> {
    let mut p = [PollFd::from_borrowed_fd(fd, events)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut p, Some(&zero))?;
    Ok(p[0].revents())
}
