// racecheck.h: a race checker for the host build (g++ -DFDSL_RACECHECK; host_shim.h includes it).
//
// Kernel code reaches global and shared memory only through gmem<T> / smem<T>, which are Ptr<T, space>
// here: their elements (Ref) report every plain read and write, and the shim's atomics report atomic
// accesses. The host driver (fdsl_host::Grid) says which block, barrier phase and thread runs; the
// launcher registers the bytes of every pointer argument (fdsl_rc_global) and the driver those of its
// shared memory. An access outside them, or to a space other than the pointer's, is a stray.
//
// Each byte has a shadow cell per scope that sums up who touched it there:
//   phase scope  - one phase of one block (between two barriers), shared and global memory; the actors
//                  are threads;
//   launch scope - the whole launch, global memory only; the actors are blocks, which never synchronise.
// Two actors conflict on a byte when one of them writes it plainly (not atomically), or when one
// updates it atomically and the other reads it plainly (the read's value depends on the timing; the
// barrier between atomics and the reads of their result is what this catches). Atomics among
// themselves never conflict. A conflict is a race unless it is only plain writes of one value, with
// no read and no atomic by any actor: a "same-value store", counted apart (no order changes the result,
// but the kernel must be listed as having them). Counts are of (byte, scope) pairs; the first few of
// each class are kept as text. Every access is seen, so the counts do not depend on the launch order.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

namespace fdsl_rc {

enum Space : unsigned char { GLOBAL, SHARED };
enum Kind : unsigned char { READ, WRITE, ATOMIC };
enum Verdict : unsigned char { NONE, SAME_VALUE, RACE, STRAY };  // also the index of a count

struct Access { uint32_t bx; uint16_t by, thread; uint32_t phase; Kind kind; };

struct Cell {
    uint32_t epoch;  // the scope the summary belongs to; an older one is stale
    unsigned char seen, many;  // bit k: an access of Kind k; accesses of Kind k by two actors or more
    unsigned char value, differ, verdict;  // value: the first plainly written byte; differ: another was
    Access first[3];  // the first access of each Kind
};

struct Region {
    uintptr_t lo, hi;
    Space space;
    int arg;  // position among the kernel's arguments (-1: shared memory)
    std::vector<Cell> phase, launch;  // a cell per byte and scope
};

struct State {
    std::vector<Region> regions;
    Access now{};
    uint32_t phase_epoch = 0;
    long long counts[4] = {0, 0, 0, 0};
    int shown[4] = {0, 0, 0, 0};
    std::string report;
};
inline State state;
constexpr int SHOWN = 4;  // examples kept per class and launch
constexpr uint32_t LAUNCH_EPOCH = 1;  // the launch scope's cells are made anew for every launch

inline void describe(std::string& out, const Access& a) {
    static const char* kinds[] = {"read", "plain write", "atomic"};
    char line[128];
    snprintf(line, sizeof line, "%s by block (%u, %u) thread %u phase %u", kinds[a.kind], a.bx, a.by, a.thread,
             a.phase);
    out += line;
}

inline std::string where(const Region& r) {
    return r.space == SHARED ? "shared memory" : "argument " + std::to_string(r.arg);
}

inline void example(Verdict v, const Region& r, size_t offset, unsigned n, bool blocks, const Access& a,
                    const Access& b) {
    if (state.shown[v]++ >= SHOWN) return;
    char head[160];
    snprintf(head, sizeof head, "%s at %s + bytes %zu..%zu (%s): ", v == RACE ? "race" : "same-value store",
             where(r).c_str(), offset, offset + n - 1, blocks ? "two blocks" : "one phase of a block");
    state.report += head;
    describe(state.report, a);
    state.report += "; ";
    describe(state.report, b);
    state.report += "\n";
}

inline uint64_t actor(const Access& a, bool blocks) {
    return blocks ? (uint64_t)a.by << 32 | a.bx : a.thread;
}

// Adds one access to a byte's cell in one scope. Returns the cell's verdict if the access worsened it (and
// `partner`: an access of another actor in the cell, where there is one), else NONE.
inline Verdict touch(Cell& c, uint32_t epoch, const Access& a, unsigned char value, bool blocks,
                     const Access*& partner) {
    if (c.epoch != epoch) c = Cell{epoch, 0, 0, 0, 0, NONE, {}};
    const uint64_t who = actor(a, blocks);
    const int bit = 1 << a.kind;
    if (!(c.seen & bit)) {
        c.seen |= bit;
        c.first[a.kind] = a;
        if (a.kind == WRITE) c.value = value;
    } else {
        if (actor(c.first[a.kind], blocks) != who) c.many |= bit;
        if (a.kind == WRITE && value != c.value) c.differ = 1;
    }
    // Whether an access of Kind k and one of Kind j come from two actors.
    auto meet = [&](Kind k, Kind j) {
        if (!(c.seen >> k & 1) || !(c.seen >> j & 1)) return false;
        return (c.many >> k & 1) || (c.many >> j & 1) || actor(c.first[k], blocks) != actor(c.first[j], blocks);
    };
    // Two writers and two values in the scope (conservative: a writer that changed its own value counts too).
    const bool writers = c.many >> WRITE & 1;
    const bool race = (writers && c.differ) || meet(WRITE, READ) || meet(WRITE, ATOMIC) || meet(READ, ATOMIC);
    const Verdict v = race ? RACE : writers ? SAME_VALUE : NONE;
    if (v <= c.verdict) return NONE;
    if (c.verdict == SAME_VALUE) --state.counts[SAME_VALUE];
    ++state.counts[v];
    c.verdict = v;
    static const Kind prefer[3][3] = {{WRITE, ATOMIC, READ}, {READ, ATOMIC, WRITE}, {WRITE, READ, ATOMIC}};
    partner = nullptr;
    for (Kind k : prefer[a.kind]) {
        if (!(c.seen >> k & 1) || (partner && actor(*partner, blocks) != who)) continue;
        partner = &c.first[k];
    }
    return v;
}

// One access of n bytes in one scope (`cells`: those of its bytes). A word that races on one byte races on
// all: plain writes of 1 and 2 to one int agree on their upper bytes, which are no same-value stores.
inline void judge(Cell* cells, uint32_t epoch, const Access& a, unsigned n, const unsigned char* value,
                  bool blocks, const Region& r, size_t offset) {
    Verdict worst = NONE;
    const Access* partner = nullptr;
    for (unsigned k = 0; k < n; ++k) {
        const Access* p = nullptr;
        const Verdict v = touch(cells[k], epoch, a, value ? value[k] : 0, blocks, p);
        if (v > worst) {
            worst = v;
            partner = p;
        }
    }
    if (worst == NONE) return;
    for (unsigned k = 0; k < n && worst == RACE; ++k) {
        if (cells[k].verdict != SAME_VALUE) continue;
        cells[k].verdict = RACE;
        --state.counts[SAME_VALUE];
        ++state.counts[RACE];
    }
    example(worst, r, offset, n, blocks, a, *partner);
}

inline void stray(const void* p, unsigned n, Kind kind, Space space) {
    ++state.counts[STRAY];
    if (state.shown[STRAY]++ >= SHOWN) return;
    const Region* below = nullptr;  // the nearest region under p: "past its end" says most
    for (const Region& r : state.regions)
        if (r.lo <= (uintptr_t)p && (!below || r.lo > below->lo)) below = &r;
    char head[200];
    if (below)
        snprintf(head, sizeof head, "stray %u-byte access through a %s pointer at %s + byte %zu (of %zu): ", n,
                 space == SHARED ? "shared" : "global", where(*below).c_str(), (size_t)((uintptr_t)p - below->lo),
                 (size_t)(below->hi - below->lo));
    else
        snprintf(head, sizeof head, "stray %u-byte access through a %s pointer at %p: ", n,
                 space == SHARED ? "shared" : "global", p);
    state.report += head;
    Access a = state.now;
    a.kind = kind;
    describe(state.report, a);
    state.report += "\n";
}

// Every access of the kernel code: n bytes at p (`value`: the bytes a plain write stores).
inline void record(const void* p, unsigned n, Kind kind, const void* value, Space space) {
    const uintptr_t lo = (uintptr_t)p;
    for (Region& r : state.regions) {
        if (lo < r.lo || lo + n > r.hi) continue;
        if (r.space != space) break;
        Access a = state.now;
        a.kind = kind;
        const size_t offset = lo - r.lo;
        const unsigned char* bytes = (const unsigned char*)value;
        judge(r.phase.data() + offset, state.phase_epoch, a, n, bytes, false, r, offset);
        if (space == GLOBAL) judge(r.launch.data() + offset, LAUNCH_EPOCH, a, n, bytes, true, r, offset);
        return;
    }
    stray(p, n, kind, space);
}

inline void add_region(const void* p, size_t bytes, Space space, int arg) {
    Region r{(uintptr_t)p, (uintptr_t)p + bytes, space, arg, std::vector<Cell>(bytes), {}};
    if (space == GLOBAL) r.launch.resize(bytes);
    state.regions.push_back(std::move(r));
}

inline void shared_region(const void* p, size_t bytes) { add_region(p, bytes, SHARED, -1); }

inline void enter_block(int x, int y) {
    state.now.bx = (uint32_t)x;
    state.now.by = (uint16_t)y;
    state.now.phase = UINT32_MAX;  // the first enter_phase makes it 0
}

inline void enter_phase() {
    ++state.now.phase;
    ++state.phase_epoch;
}

inline void enter_thread(int t) { state.now.thread = (uint16_t)t; }

template <class T, Space S> class Ptr;

// One element of global or shared memory: reading or writing it reports the access.
template <class T, Space S> class Ref {
  public:
    using V = std::remove_const_t<T>;
    explicit Ref(T* p) : p_(p) {}
    operator V() const {
        record(p_, sizeof(T), READ, nullptr, S);
        return *p_;
    }
    const Ref& operator=(const V& v) const {
        record(p_, sizeof(T), WRITE, &v, S);
        *p_ = v;
        return *this;
    }
    const Ref& operator=(const Ref& o) const { return *this = V(o); }
    template <class U> const Ref& operator+=(const U& v) const { return *this = V(V(*this) + v); }
    Ptr<T, S> operator&() const { return Ptr<T, S>(p_); }

  private:
    T* p_;
};

template <class T, Space S> class Ptr {
  public:
    Ptr() = default;
    Ptr(T* p) : p_(p) {}  // a kernel argument or a shared array becomes tracked
    template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
    Ptr(const Ptr<U, S>& o) : p_(o.raw()) {}  // T* to const T*
    Ref<T, S> operator[](long long i) const { return Ref<T, S>(p_ + i); }
    Ptr operator+(long long i) const { return Ptr(p_ + i); }
    T* raw() const { return p_; }  // for the shim's atomics, which report themselves

  private:
    T* p_ = nullptr;
};

}  // namespace fdsl_rc

// The launcher's side (host_runner.py), defined here as each library is one translation unit.
extern "C" void fdsl_rc_begin() {  // before a launch: forget the last one's arguments and verdict
    fdsl_rc::state.regions.clear();
    for (int k = 0; k < 4; ++k) fdsl_rc::state.counts[k] = fdsl_rc::state.shown[k] = 0;
    fdsl_rc::state.report.clear();
}
extern "C" void fdsl_rc_global(const void* p, unsigned long long bytes, int arg) {
    fdsl_rc::add_region(p, (size_t)bytes, fdsl_rc::GLOBAL, arg);
}
extern "C" long long fdsl_rc_count(int verdict) { return fdsl_rc::state.counts[verdict]; }  // a Verdict
extern "C" const char* fdsl_rc_report() { return fdsl_rc::state.report.c_str(); }
