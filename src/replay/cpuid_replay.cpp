// The replay's side of cpuid and rdrand/rdseed: a trace recorded with CPUID
// faulting is replayed with it (every cpuid traps and gets the recorded
// answer); the rdrand/rdseed sites of a trace recorded without it are kept
// to be named when the replay diverges.
#include <cstdio>
#include <iostream>
#include <set>

#include "core/cpuid_trap.h"
#include "replay/event_text.h"
#include "replay/replay_session.h"

namespace rrx::replay {

namespace {

std::string hex(uint64_t v) { return "0x" + fmt_hex(v); }

}  // namespace

// A trace recorded with CPUID faulting is replayed with it. Where the
// replay cannot trap cpuid, it goes on without: the program gets this
// CPU's answers (rdrand included) and the recorded ones are skipped, with a
// warning, and a divergence names this as a possible cause.
void ReplaySession::check_cpuid_faulting() {
  if (!reader_->header().getCpuidFaulting()) return;
  std::string why_not;
  cpuid_faulting_ = cpuid_faulting_usable(&why_not);
  cpuid_untrapped_ = !cpuid_faulting_;
  if (cpuid_untrapped_) {
    std::cerr << "rrx: warning: the recording trapped cpuid (CPUID faulting) but this replay cannot (" << why_not
              << "): the program sees this CPU's cpuid answers, rdrand and rdseed included, instead of the recorded "
                 "ones; the replay may diverge\n";
  }
}

// After each exec (the kernel clears the flag) and before the program's
// first instruction, as the recorder did.
void ReplaySession::enable_cpuid_trap(RTask& t) {
  if (cpuid_faulting_ && !t.cpuid_untrapped) enable_cpuid_faulting(*t.task, t.task->regs().rip);
}

// A SIGSEGV at a cpuid instruction (CPUID faulting): the next event must be
// that thread's cpuid with the same leaf and subleaf; its answer is injected
// and the thread is left after the instruction. False: not a cpuid fault.
bool ReplaySession::on_cpuid_fault(RTask& t, user_regs_struct& regs) {
  if (!cpuid_faulting_) return false;
  size_t len = cpuid_instruction_at(*t.task, regs.rip);
  if (len == 0) return false;
  auto ev = peek();
  uint32_t leaf = static_cast<uint32_t>(regs.rax), subleaf = static_cast<uint32_t>(regs.rcx);
  std::string live = "cpuid leaf " + hex(leaf) + " subleaf " + hex(subleaf) + " at " + hex(regs.rip);
  if (ev.which() != schema::Event::CPUID || ev.getTid() != t.tid) diverge(describe_event(ev), live);
  auto c = ev.getCpuid();
  if (c.getLeaf() != leaf || c.getSubleaf() != subleaf || c.getIp() != regs.rip) diverge(describe_event(ev), live);
  undo_recorded_trap(t, regs.rip, c);
  regs.rax = c.getEax();
  regs.rbx = c.getEbx();
  regs.rcx = c.getEcx();
  regs.rdx = c.getEdx();
  regs.rip += len;
  t.task->set_regs(regs);
  consume();
  return true;
}

void ReplaySession::note_random_insns(schema::Event::Reader ev) {
  std::set<std::string> known(random_insns_.begin(), random_insns_.end());
  for (auto site : ev.getRandomInsns()) {
    std::string object = site.getObject().cStr();
    size_t slash = object.rfind('/');
    if (slash != std::string::npos) object = object.substr(slash + 1);
    std::string text = std::string(site.getMnemonic().cStr()) + " at " + object + "+" + hex(site.getObjectAddr());
    if (known.insert(text).second) random_insns_.push_back(text);
  }
}

// For a divergence message: the rdrand/rdseed sites mapped so far.
std::string ReplaySession::random_insns_note() const {
  std::string tsc;  // rdtsc the recorder could not find (where the trap does not work)
  if (unpatched_tsc_count_ > 0) {
    tsc = "an rdtsc may have run at a byte pair the recorder could not confirm as one by decoding, and left unpatched (";
    for (size_t i = 0; i < unpatched_tsc_.size(); ++i) tsc += (i ? ", " : "") + hex(unpatched_tsc_[i]);
    if (unpatched_tsc_count_ > unpatched_tsc_.size()) {
      tsc += " and " + std::to_string(unpatched_tsc_count_ - unpatched_tsc_.size()) + " more";
    }
    tsc += "): its value was not recorded";
  }
  const std::string rest = random_insns_note_cpuid();
  return tsc.empty() ? rest : rest.empty() ? tsc : tsc + "; or " + rest;
}

std::string ReplaySession::random_insns_note_cpuid() const {
  if (cpuid_untrapped_) {
    return "the recording trapped cpuid and this replay cannot (no CPUID faulting here): the program saw this "
           "CPU's cpuid answers, not the recorded ones, and may have used rdrand or rdseed";
  }
  // Recorded without CPUID faulting: cpuid ran natively, its answers were
  // not recorded, and some name the CPU the thread ran on (leaf 1's APIC id,
  // leaf 0xb's x2APIC id): a replay on the other CPU sees other values.
  const std::string untrapped =
      reader_->header().getCpuidFaulting()
          ? ""
          : "cpuid was not trapped when recording (no CPUID faulting): its answers were not recorded, and some "
            "name the CPU a thread ran on (APIC ids), which may differ in this replay";
  if (random_insns_.empty()) return untrapped;
  std::string sites;
  for (size_t i = 0; i < random_insns_.size() && i < 3; ++i) sites += (i ? ", " : "") + random_insns_[i];
  if (random_insns_.size() > 3) sites += " and " + std::to_string(random_insns_.size() - 3) + " more (rrx info lists them)";
  return sites + ": the program may have run " + (random_insns_.size() > 1 ? "these instructions, whose values" : "this instruction, whose values") +
         " were not recorded (no CPUID faulting when recording); or " + untrapped;
}

}  // namespace rrx::replay
