// Hashes, on a thread of their own, the system files a recording hard-links
// into its trace with a hash it did not compute, so that the first replay
// need not.
//
// FileStore names a package-managed file by the hash the record-side cache
// (HashCache: device, inode, size, mtime) holds for it, and links it into
// the trace. Replay checks each stored copy against its hash once, and
// remembers checks in VerifiedHashes, keyed with the ctime, which the link
// itself changes: the recorder vouches for the link's new stat when the
// pre-link stat was a checked one. It was not whenever the file's ctime had
// moved since the last check, as it does when a trace holding a link to it
// is deleted (its link count goes down): then the first replay of the next
// recording hashed the copies again (node's 99 MB binary, a JVM's libjvm.so
// and lib/modules: a third of a short replay). LaterVouches hashes such a
// file while the recording goes on, on the CPUs the recording is not bound
// to (allowed there, it ran at every ptrace stop's idle moment: java
// -version recorded 11% slower; with no other CPU nothing is hashed) and
// only with CPU time nothing else wants (SCHED_IDLE), and at the
// end of the recording (finish(), which gives up what is not done yet
// rather than make the recording wait) vouches for the stat it hashed where that is still
// the file's stat and the content has the trace's hash. A file whose
// content differs is not vouched for: the replay's own check reports it.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.h"

namespace rrx::trace {

class VerifiedHashes;

class LaterVouches {
 public:
  // Vouching in `hashes` (null: VerifiedHashes::shared()).
  explicit LaterVouches(VerifiedHashes* hashes = nullptr) : hashes_(hashes) {}
  // finish(), then the thread ends (a hash in progress completes first).
  ~LaterVouches();
  LaterVouches(const LaterVouches&) = delete;
  LaterVouches& operator=(const LaterVouches&) = delete;

  // Smaller files are not queued: a replay hashes one in a few
  // milliseconds, and the hash beside a recording is not quite free (it
  // shares the memory bandwidth: python3.11's 6.8 MB binary hashed beside
  // each of its recordings cost them 1-2 ms, 3-5%), while most recordings
  // are never replayed. (node's 99 MB binary: 40 ms of its first replay.)
  static constexpr uint64_t kMinBytes = uint64_t{8} << 20;

  // Queues the file open as `fd` (a stored copy: a hard link just made),
  // said to have content hash `hash` (FileHashKind::Pages). The descriptor
  // is duplicated.
  void add(int fd, const std::string& hash);
  // Stops the hashing (a file not hashed yet is given up: the recording
  // does not wait for it), then vouches (VerifiedHashes::vouch) for each
  // file hashed whose content had its hash and whose stat, ctime included,
  // is still the one taken before it was hashed. Returns how many it
  // vouched for. `drain` (tests): waits for every file queued to be hashed.
  size_t finish(bool drain = false);

 private:
  struct Job {
    Job(int f, std::string h) : fd(f), hash(std::move(h)) {}
    UniqueFd fd;
    std::string hash;
    bool matched = false;  // the content has `hash`, the stat was the same after the hash as before
    struct ::stat st {};   // before the hash
  };
  void run();
  VerifiedHashes* hashes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  std::vector<std::unique_ptr<Job>> jobs_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace rrx::trace
