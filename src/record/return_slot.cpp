// The return slot: see return_slot.h.
#include "record/return_slot.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <iterator>

#include "core/error.h"
#include "core/proc_maps.h"
#include "core/ptrace_task.h"
#include "core/remote_syscall.h"
#include "core/syscallbuf_abi.h"
#include "core/syscall_table.h"
#include "core/vdso.h"

namespace rrx::record {

namespace {

constexpr uint64_t kPage = 4096;
// Two pages above the library's rrx page (which maps two).
constexpr uint64_t kSlotPageHint = RRX_PAGE_ADDR + 2 * RRX_PAGE_SIZE;

}  // namespace

bool completes_at_seccomp_stop(const sys::SyscallDesc& d, const uint64_t args[6], bool code_ok) {
  if (d.special != sys::Special::None && d.special != sys::Special::Mmap) return false;
  for (const sys::OutMem& o : d.out) {
    if (o.arg >= 0 || o.size != sys::SizeFrom::None) return false;
  }
  if (d.outputs != nullptr) return false;
  if (d.sends.shape != sys::Sends::None || d.changes_file.kind != sys::FileChange::None) return false;
  if (d.temp_sigmask.arg >= 0 || d.refuse_by_args != nullptr) return false;
  if (d.flags & (sys::kMayBlock | sys::kSetsSigmask | sys::kSetsSigaction)) return false;
  for (int i = 0; i < 6; ++i) {
    if (d.args[i] == sys::Arg::ProtFlags && (args[i] & PROT_EXEC) && !code_ok) return false;
  }
  if (d.special == sys::Special::Mmap) {
    const uint64_t type = args[3] & 0x0f;
    if (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) return false;
  }
  return true;
}

std::string return_slot_stub(uint64_t slot) {
  std::string s;
  s.append("\x48\xa3", 2);  // movabs %rax, slot
  s.append(reinterpret_cast<const char*>(&slot), 8);
  s.append("\xff\xe1", 2);  // jmp *%rcx
  return s;
}

void ReturnSlots::on_exec(Task& t, pid_t tgid, uint64_t vdso_base, uint64_t scratch, std::vector<siginfo_t>* arrived,
                          bool seccomp_traced) {
  forget(tgid);
  if (vdso_base == 0) return;
  const uint64_t stub = vdso_spare_bytes(t, vdso_base, kReturnSlotStubBytes);
  if (stub == 0) return;
  // Beside the library's page (core/syscallbuf_abi.h), where the program's
  // own maps do not go, so that they lie where they would without it; where
  // that is taken, where the kernel puts it.
  auto map_at = [&](uint64_t hint, uint64_t fixed) {
    return remote_syscall(t, scratch, SYS_mmap,
                          {hint, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | fixed,
                           static_cast<uint64_t>(-1), 0},
                          nullptr, arrived, seccomp_traced);
  };
  int64_t page = map_at(kSlotPageHint, MAP_FIXED_NOREPLACE);
  if (sys::is_error_return(page)) page = map_at(0, 0);
  if (sys::is_error_return(page)) return;
  Proc p;
  p.page = static_cast<uint64_t>(page);
  p.vdso = vdso_base;
  p.place = Place{stub, p.page + 8};
  p.cookie = random_() | 1;
  const std::string code = return_slot_stub(p.place.slot);
  if (!t.write_mem(p.page, &p.cookie, sizeof p.cookie) || !t.write_mem(stub, code.data(), code.size())) return;
  procs_[tgid] = p;
}

void ReturnSlots::on_fork(pid_t parent, pid_t child, bool same_memory) {
  // (Whatever an earlier process of the same number left.)
  shared_with_.erase(child);
  procs_.erase(child);
  if (same_memory) {
    shared_with_[child] = owner(parent);
    return;
  }
  auto it = procs_.find(owner(parent));
  if (it == procs_.end()) return;
  Proc p = it->second;
  p.checked = false;  // (a page the parent gave MADV_DONTFORK or MADV_WIPEONFORK: lost at that madvise)
  procs_[child] = p;
}

void ReturnSlots::forget(pid_t tgid) {
  if (shared_with_.erase(tgid) != 0) return;  // (a vfork child: its own memory now)
  procs_.erase(tgid);
  // Processes that ran in its memory keep the old one, without a slot.
  for (auto it = shared_with_.begin(); it != shared_with_.end();) {
    it = it->second == tgid ? shared_with_.erase(it) : std::next(it);
  }
}

void ReturnSlots::on_mapping_call(pid_t tgid, int64_t nr, const uint64_t args[6]) {
  auto it = procs_.find(owner(tgid));
  if (it == procs_.end()) return;
  const Proc& p = it->second;
  auto touches = [&](uint64_t addr, uint64_t len) {
    return range_overlaps(addr, len, p.page, p.page + kPage) ||
           range_overlaps(addr, len, p.vdso, p.place.stub + kReturnSlotStubBytes);
  };
  bool lost = false;
  switch (nr) {
    case SYS_mmap:  // only MAP_FIXED replaces what is mapped
      lost = (args[3] & MAP_FIXED) && touches(args[0], args[1]);
      break;
    case SYS_brk:  // grows only into free space
      break;
    case SYS_mremap:
      lost = touches(args[0], args[1]) || ((args[3] & MREMAP_FIXED) && touches(args[4], args[2]));
      break;
    case SYS_shmat:  // (its size is the segment's: any address given may reach them)
      lost = args[1] != 0;
      break;
    default:  // munmap, mprotect, pkey_mprotect, madvise, mlock...: a range in arguments 0 and 1
      lost = touches(args[0], args[1]);
      break;
  }
  if (lost) procs_.erase(it);
}

void ReturnSlots::lose(pid_t tgid) { procs_.erase(owner(tgid)); }

bool ReturnSlots::check(Task& t, const Proc& p) const {
  uint64_t cookie = 0;
  std::string code(kReturnSlotStubBytes, '\0');
  return t.read_exact(p.page, &cookie, sizeof cookie) && cookie == p.cookie && vdso_still_at(t, p.vdso) &&
         t.read_exact(p.place.stub, code.data(), code.size()) && code == return_slot_stub(p.place.slot);
}

std::optional<ReturnSlots::Place> ReturnSlots::usable(Task& t, pid_t tgid) {
  auto it = procs_.find(owner(tgid));
  if (it == procs_.end()) return std::nullopt;
  if (!it->second.checked) {
    if (!check(t, it->second)) {
      procs_.erase(it);
      return std::nullopt;
    }
    it->second.checked = true;
  }
  return it->second.place;
}

}  // namespace rrx::record
