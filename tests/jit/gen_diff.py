#!/usr/bin/env python3
"""Writes the guest assembly of the JIT differential test: `run_case(n,
regs, buf)` runs random case n, a straight-line or looping mix of RV64GC
instructions (ALU, M, LR/SC and AMOs, CSR accesses, loads and stores around a page boundary of
`buf`, misaligned ones, accesses that fault, forward branches, counted
loops, some nested, loops of word arithmetic, F and D arithmetic,
conversions, moves, loads and stores, in every rounding mode), starting
from and ending in the register file at `regs` (x0-x31, then f0-f31,
fcsr and, at the end, mstatus.FS; each case starts with FS initial and
sometimes turns it off, making FP instructions illegal). Faults go
to diff_trap, which folds mcause/mtval/mepc and the instructions retired
since the case started (instret is exact at a fault) into diff_trapsum and
skips the instruction. x2 (sp), x3, x4 (trap handler) and x8 (buffer) are reserved.

usage: gen_diff.py SEED NCASES > cases.S"""
import random
import sys

seed, ncases = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
FREE = [1, 5, 6, 7] + list(range(9, 30))  # x30 and x31 count loops
R3 = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
      "addw", "subw", "sllw", "srlw", "sraw", "mul", "mulh", "mulhsu", "mulhu",
      "div", "divu", "rem", "remu", "mulw", "divw", "divuw", "remw", "remuw"]
RI = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]
SH = [("slli", 63), ("srli", 63), ("srai", 63), ("slliw", 31), ("srliw", 31), ("sraiw", 31)]
LD = [("lb", 1), ("lh", 2), ("lw", 4), ("ld", 8), ("lbu", 1), ("lhu", 2), ("lwu", 4)]
ST = [("sb", 1), ("sh", 2), ("sw", 4), ("sd", 8)]
BR = ["beq", "bne", "blt", "bge", "bltu", "bgeu"]
FP3 = ["fadd", "fsub", "fmul", "fdiv"]
FP4 = ["fmadd", "fmsub", "fnmadd", "fnmsub"]
FPNORM = ["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"]
RM = ["", "", "", ", rne", ", rtz", ", rdn", ", rup", ", rmm", ", dyn"]
FREGS_OFF = 256  # f0-f31 in regs after x0-x31, then fcsr, then FS


def reg(dest=False):
    if not dest and rnd.random() < 0.05:
        return "x0"
    return "x%d" % rnd.choice(FREE)


def imm12():
    return rnd.choice([rnd.randint(-2048, 2047), rnd.randint(-8, 8), 2047, -2048, 0, 1, -1])


def mem_off(size):
    # buf is passed as x8 = buffer + 3072: offsets reach both of its pages
    # and the boundary between them; some are misaligned.
    off = rnd.randint(-2048, 2047 - size)
    if rnd.random() < 0.7:
        off &= ~(size - 1)
    if rnd.random() < 0.1:
        off = 4096 - 3072 - rnd.randint(1, size)  # straddles the boundary
    return off


def freg():
    return "f%d" % rnd.randint(0, 31)


def fp_insn(out):
    """One F or D instruction: arithmetic (some rounding modes given),
    sign injection, min/max, compares, classes, conversions and moves to
    and from integer registers, loads and stores (some faulting), and now
    and then an fcsr access or FS turned off."""
    r = rnd.random()
    f = rnd.choice([".s", ".d"])
    if r < 0.25:
        out.append("%s%s %s, %s, %s%s" % (rnd.choice(FP3), f, freg(), freg(), freg(), rnd.choice(RM)))
    elif r < 0.35:
        out.append("%s%s %s, %s, %s, %s%s" % (rnd.choice(FP4), f, freg(), freg(), freg(), freg(),
                                              rnd.choice(RM)))
    elif r < 0.4:
        out.append("fsqrt%s %s, %s%s" % (f, freg(), freg(), rnd.choice(RM)))
    elif r < 0.48:
        out.append("%s%s %s, %s, %s" % (rnd.choice(FPNORM), f, freg(), freg(), freg()))
    elif r < 0.54:
        a = freg()
        b = a if rnd.random() < 0.3 else freg()  # equal operands tell flt from fle
        out.append("%s%s %s, %s, %s" % (rnd.choice(["feq", "flt", "fle"]), f, reg(True), a, b))
    elif r < 0.57:
        out.append("fclass%s %s, %s" % (f, reg(True), freg()))
    elif r < 0.65:
        i = rnd.choice([".w", ".wu", ".l", ".lu"])
        if rnd.random() < 0.5:
            out.append("fcvt%s%s %s, %s%s" % (i, f, reg(True), freg(), rnd.choice(RM)))
        else:
            exact = f == ".d" and i in (".w", ".wu")  # no rounding mode to give
            out.append("fcvt%s%s %s, %s%s" % (f, i, freg(), reg(), "" if exact else rnd.choice(RM)))
    elif r < 0.68:
        out.append(rnd.choice(["fcvt.s.d %s, %s%s" % (freg(), freg(), rnd.choice(RM)),
                               "fcvt.d.s %s, %s" % (freg(), freg())]))
    elif r < 0.73:
        w = rnd.choice(["w", "d"])
        if rnd.random() < 0.5:
            out.append("fmv.x.%s %s, %s" % (w, reg(True), freg()))
        else:
            out.append("fmv.%s.x %s, %s" % (w, freg(), reg()))
    elif r < 0.96:  # loads up to 0.85, then stores
        op, size = rnd.choice([("flw", 4), ("fld", 8)] if r < 0.85 else [("fsw", 4), ("fsd", 8)])
        if rnd.random() < 0.04:
            out.append("%s %s, %d(x0)" % (op, freg(), rnd.randint(16, 2000)))  # faults
        else:
            out.append("%s %s, %d(x8)" % (op, freg(), mem_off(size)))
    elif r < 0.985:
        # fcsr: the flags and rounding mode read, or set (frm 5-7 makes
        # dynamic rounding illegal)
        out.append(rnd.choice(["frflags %s" % reg(True), "frcsr %s" % reg(True),
                               "fsflags %s" % reg(), "fsrmi %d" % rnd.randint(0, 7),
                               "fsflagsi %d" % rnd.randint(0, 31)]))
    else:
        out.append("li x31, 0x6000")  # x31 counts loops: only in straight code
        out.append("csrc mstatus, x31")


def insn(out, label_base, k, n, fp_ok=True):
    r = rnd.random()
    if fp_ok and rnd.random() < 0.12:
        fp_insn(out)
        return
    if r < 0.03:
        # A zero or sign extension the RV64GC way (tier 1 makes it one
        # move), of the doubleword or of the word
        d = reg(True)
        if rnd.random() < 0.5:
            k, w = rnd.choice([32, 48, 56]), ""
        else:
            k, w = rnd.choice([16, 24]), "w"
        out.append("slli%s %s, %s, %d" % (w, d, reg(), k))
        out.append("%s%s %s, %s, %d" % (rnd.choice(["srli", "srai"]), w, d, d, k))
    elif r < 0.35:
        out.append("%s %s, %s, %s" % (rnd.choice(R3), reg(True), reg(), reg()))
    elif r < 0.55:
        out.append("%s %s, %s, %d" % (rnd.choice(RI), reg(True), reg(), imm12()))
    elif r < 0.62:
        op, mx = rnd.choice(SH)
        out.append("%s %s, %s, %d" % (op, reg(True), reg(), rnd.randint(0, mx)))
    elif r < 0.65:
        out.append("%s %s, 0x%x" % (rnd.choice(["lui", "auipc"]), reg(True), rnd.randint(0, 0xfffff)))
    elif r < 0.78:
        op, size = rnd.choice(LD)
        if rnd.random() < 0.04:
            out.append("%s %s, %d(x0)" % (op, reg(True), rnd.randint(16, 2000)))  # faults
        else:
            out.append("%s %s, %d(x8)" % (op, reg(True), mem_off(size)))
    elif r < 0.9:
        op, size = rnd.choice(ST)
        if rnd.random() < 0.03:
            out.append("%s %s, %d(x0)" % (op, reg(), rnd.randint(16, 2000)))  # faults
        else:
            out.append("%s %s, %d(x8)" % (op, reg(), mem_off(size)))
    elif r < 0.93:
        # LR/SC and AMOs on the buffer (some misaligned: they fault)
        t = reg(True)
        size = rnd.choice([4, 8])
        off = rnd.randint(-256, 256) & ~(size - 1)
        if rnd.random() < 0.1:
            off += rnd.choice([1, 2, 3])
        out.append("addi %s, x8, %d" % (t, off))
        sfx = ".w" if size == 4 else ".d"
        if rnd.random() < 0.3:
            out.append("lr%s %s, (%s)" % (sfx, reg(True), t))
            out.append("sc%s %s, %s, (%s)" % (sfx, reg(True), reg(), t))
        else:
            op = rnd.choice(["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin",
                             "amomax", "amominu", "amomaxu"])
            out.append("%s%s %s, %s, (%s)" % (op, sfx, reg(True), reg(), t))
    elif r < 0.97 and k + 1 < n:
        target = "%s%d" % (label_base, rnd.randint(k + 1, n))
        if rnd.random() < 0.3:
            # A test of what the instruction before wrote (tier 1 uses its flags)
            d = reg(True)
            out.append("%s %s, %s, %s" % (rnd.choice(["add", "sub", "and", "or", "xor", "addw",
                                                      "subw"]), d, reg(), reg()))
            out.append("%s %s, %s" % (rnd.choice(["beqz", "bnez", "bltz", "bgez"]), d, target))
        else:
            out.append("%s %s, %s, %s" % (rnd.choice(BR), reg(), reg(), target))
    elif r < 0.985:
        # CSR instructions (translated through a helper that ends the
        # region): scratch registers, instret (exact at each instruction),
        # and a write to a read-only CSR (illegal instruction)
        csr = rnd.choice(["mscratch", "sscratch", "minstret", "mhartid"])
        if csr == "minstret":
            # how many retired between two reads (each run of a case
            # starts at another count)
            d, e = rnd.sample(FREE, 2)
            out.append("csrr x%d, minstret" % d)
            out.append("csrr x%d, minstret" % e)
            out.append("sub x%d, x%d, x%d" % (d, e, d))
            src = reg()
            while src == "x%d" % e:  # e must not keep the count itself
                src = reg()
            out.append("mv x%d, %s" % (e, src))
        elif csr == "mhartid":
            out.append("csrw mhartid, %s" % reg())
        elif rnd.random() < 0.5:
            out.append("%s %s, %s, %s" % (rnd.choice(["csrrw", "csrrs", "csrrc"]), reg(True), csr, reg()))
        else:
            out.append("%s %s, %s, %d" % (rnd.choice(["csrrwi", "csrrsi", "csrrci"]), reg(True), csr,
                                          rnd.randint(0, 31)))
    else:
        out.append("c.nop" if rnd.random() < 0.5 else "fence")


def straight(out, lb, n, in_loop=False):
    """n instructions whose branches stay inside them (labels lb0..lbn)."""
    for k in range(n):
        out.append("%s%d:" % (lb, k))
        mark = len(out)
        insn(out, lb, k, n)
        if in_loop and any("x31" in line for line in out[mark:]):
            del out[mark:]  # x31 counts the loop
            out.append("c.nop")
    out.append("%s%d:" % (lb, n))


def word_loop(out, lb):
    """A loop of word (W) arithmetic on a few registers, counted with
    addiw like C's int loops: tier 1 leaves out sign extensions there and
    must extend before anything reads whole registers (a 64-bit operation,
    a fault, leaving the loop)."""
    ws = ["x%d" % r for r in rnd.sample(FREE, 4)]
    w = lambda: rnd.choice(ws)
    out.append("li x31, %d" % rnd.randint(2, 30))
    out.append("1:")
    n = rnd.randint(4, 16)
    for k in range(n):
        out.append("%s%d:" % (lb, k))
        r = rnd.random()
        if r < 0.35:
            out.append("%s %s, %s, %s" % (rnd.choice(["addw", "subw", "sllw", "srlw", "sraw", "mulw",
                                                      "divw", "remuw"]), w(), w(), w()))
        elif r < 0.55:
            op, mx = rnd.choice([("addiw", 0), ("slliw", 31), ("srliw", 31), ("sraiw", 31)])
            out.append("%s %s, %s, %d" % (op, w(), w(), imm12() if op == "addiw" else rnd.randint(0, mx)))
        elif r < 0.65:
            out.append("%s %s, %d(x8)" % (rnd.choice(["sw", "sh", "sb"]), w(), mem_off(4) & ~3))
        elif r < 0.78 and k + 1 < n:
            target = "%s%d" % (lb, rnd.randint(k + 1, n))
            if rnd.random() < 0.3:
                # A branch over one or two W operations on one register:
                # tier 1 turns it into a conditional move (if-conversion),
                # and what the branch's target knows of that register's
                # extension must include the skipped operations.
                d = w()
                a, b = rnd.sample([x for x in ws if x != d], 2)
                out.append("%s %s, %s, 3f" % (rnd.choice(BR), a, b))
                for _ in range(rnd.randint(1, 2)):
                    if rnd.random() < 0.5:
                        out.append("addiw %s, %s, %d" % (d, w(), imm12()))
                    else:
                        out.append("%s %s, %s, %s" % (rnd.choice(["addw", "subw", "sllw", "sraw"]), d, w(), w()))
                out.append("3:")
            elif rnd.random() < 0.4:
                d = w()
                out.append("%s %s, %s, %s" % (rnd.choice(["addw", "subw"]), d, w(), w()))
                out.append("%s %s, %s" % (rnd.choice(["beqz", "bnez", "bltz", "bgez"]), d, target))
            else:
                out.append("%s %s, %s, %s" % (rnd.choice(BR), w(), w(), target))
        elif r < 0.84:
            # a whole-register read or write of one of them
            out.append("%s %s, %s, %s" % (rnd.choice(["add", "xor", "sltu", "srl"]), rnd.choice([w(), reg(True)]),
                                          w(), reg()))
        elif r < 0.88:
            out.append("lw %s, %d(x0)" % (w(), rnd.randint(16, 2000)))  # faults
        elif r < 0.92:
            out.append("ld %s, %d(x8)" % (w(), mem_off(8) & ~7))
        else:
            out.append("mv %s, %s" % (w(), w()))
    out.append("%s%d:" % (lb, n))
    out.append("addiw x31, x31, -1")
    out.append("bnez x31, 1b")


def narrow_case(c, r):
    """A loop over 16-bit values the way RV64GC code without Zbb keeps
    them (drawn from `r`, a stream of its own, and from imm12/mem_off's,
    only after every other case is drawn: the other cases of a seed stay
    as they were): operations whose result is zero-extended by an
    slli/srli pair (tier 1 does them in 16 or 32 bits when an operand is
    known narrow, guarding the entry when it assumes one), a CRC step,
    and branches on a register computed a few instructions before (tier 1
    computes it last, for its flags). The accumulator enters narrow or
    not, so both sides of the guard run."""
    out = []
    regs = ["x%d" % x for x in r.sample(FREE, 5)]
    acc, v, t, cst, e = regs
    pick = lambda: r.choice(regs)
    out.append("li x31, %d" % r.randint(2, 40))
    if r.random() < 0.6:
        out.append("slli %s, %s, 48" % (acc, acc))
        out.append("srli %s, %s, 48" % (acc, acc))
    if r.random() < 0.7:
        out.append("li %s, %d" % (cst, r.choice([-24575, 0x1021, -1, 255, 0x7fff])))
    out.append("1:")
    lb = ".Ln%d_" % c
    n = r.randint(3, 10)
    for k in range(n):
        out.append("%s%d:" % (lb, k))
        x = r.random()
        if x < 0.35:
            # an operation, then its result zero-extended (sometimes into
            # another register, which keeps the whole result)
            kk = r.choice([48, 48, 48, 32, 56])
            d = r.choice([acc, acc, pick()])
            src = d if r.random() < 0.85 else pick()
            if r.random() < 0.6:
                out.append("%s %s, %s, %s" % (r.choice(["xor", "add", "sub", "or", "and", "addw", "subw"]),
                                              src, r.choice([acc, pick()]), pick()))
            else:
                out.append("%s %s, %s, %d" % (r.choice(["xori", "addi", "ori", "andi", "addiw"]), src,
                                              r.choice([acc, pick()]), imm12()))
            out.append("slli %s, %s, %d" % (d, src, kk))
            out.append("srli %s, %s, %d" % (d, d, kk))
        elif x < 0.55:
            # a CRC step: a branch over xor and extension (if-converted)
            out.append("xor %s, %s, %s" % (t, acc, v))
            out.append("andi %s, %s, 1" % (t, t))
            out.append("srli %s, %s, 1" % (acc, acc))
            out.append("srliw %s, %s, 1" % (v, v))
            out.append("beqz %s, 3f" % t)
            out.append("xor %s, %s, %s" % (acc, acc, cst))
            out.append("slli %s, %s, 48" % (acc, acc))
            out.append("srli %s, %s, 48" % (acc, acc))
            out.append("3:")
        elif x < 0.75 and k + 1 < n:
            # a register tested a few instructions after it was computed
            d = pick()
            out.append("%s %s, %s, %s" % (r.choice(["and", "xor", "add", "or", "subw"]), d, pick(), pick()))
            if r.random() < 0.5:
                out.append("andi %s, %s, %d" % (d, d, r.choice([1, 3, 255, -2])))
            for _ in range(r.randint(1, 3)):
                out.append("%s %s, %s, %d" % (r.choice(["srli", "slli", "addi", "xori"]), pick(), pick(),
                                              r.randint(0, 12)))
            out.append("%s %s, %s%d" % (r.choice(["beqz", "bnez"]), d, lb, r.randint(k + 1, n)))
        elif x < 0.8:
            # a word result masked by andi (whose positive immediate
            # clears the upper half: tier 1 need not extend the word)
            d = pick()
            op = r.choice(["addiw", "slliw", "sraiw"])
            out.append("%s %s, %s, %d" % (op, d, pick(), imm12() if op == "addiw" else r.randint(0, 31)))
            out.append("andi %s, %s, %d" % (pick(), d, r.choice([255, 2047, 1, -256, -1])))
        elif x < 0.85:
            out.append(r.choice(["lhu %s, %d(x8)" % (pick(), mem_off(2) & ~1),
                                 "andi %s, %s, %d" % (pick(), pick(), r.randint(0, 2047)),
                                 "srli %s, %s, %d" % (pick(), pick(), r.randint(40, 63)),
                                 "sltu %s, %s, %s" % (pick(), pick(), pick())]))
        elif x < 0.93:
            out.append("%s %s, %s, %s" % (r.choice(["add", "mul", "sll", "sub"]), pick(), pick(), pick()))
        else:
            out.append("mv %s, %s" % (acc, e))  # may be wide again
    out.append("%s%d:" % (lb, n))
    out.append("addi x31, x31, -1")
    out.append("bnez x31, 1b")
    out.append("j case_end")
    return out


def case(c):
    out = []
    n = rnd.randint(8, 80)
    if rnd.random() < 0.15:
        word_loop(out, ".Lw%d_" % c)
        straight(out, ".Lc%d_" % c, rnd.randint(0, 10))
        out.append("j case_end")
        return out
    loop = rnd.random() < 0.3
    if loop:
        out.append("li x31, %d" % rnd.randint(2, 40))
        out.append("%d:" % 1)
    lb = ".Lc%d_" % c
    if loop and rnd.random() < 0.5:
        # An inner loop in the middle: a translation keeps different
        # registers in host registers inside it than around it.
        straight(out, lb + "a", rnd.randint(0, 20), True)
        out.append("li x30, %d" % rnd.randint(1, 12))
        out.append("2:")
        straight(out, lb + "b", rnd.randint(2, 30), True)
        out.append("addi x30, x30, -1")
        out.append("bnez x30, 2b")
        straight(out, lb, rnd.randint(0, 20), True)
    else:
        straight(out, lb, n, loop)
    if loop:
        out.append("addi x31, x31, -1")
        out.append("bnez x31, 1b")
    out.append("j case_end")
    return out


print("""/* Generated by tests/jit/gen_diff.py %d %d: do not edit. */
	.option norelax
	.text
	.globl run_case
run_case:
	addi sp, sp, -128
	sd ra, 0(sp)
	sd s0, 8(sp)
	sd s1, 16(sp)
	sd s2, 24(sp)
	sd s3, 32(sp)
	sd s4, 40(sp)
	sd s5, 48(sp)
	sd s6, 56(sp)
	sd s7, 64(sp)
	sd s8, 72(sp)
	sd s9, 80(sp)
	sd s10, 88(sp)
	sd s11, 96(sp)
	sd gp, 104(sp)
	sd tp, 112(sp)
	sd a1, 120(sp)
	addi sp, sp, -16
	csrr t0, mtvec
	sd t0, 0(sp)
	la t0, diff_trap
	csrw mtvec, t0
	csrw mscratch, zero
	csrw sscratch, zero
	mv x8, a2
	slli t0, a0, 3
	la t1, case_table
	add t0, t0, t1
	ld gp, 0(t0)
	mv tp, a1
	csrr t0, minstret
	la t1, diff_case_instret
	sd t0, 0(t1)""" % (seed, ncases))
for r in range(32):
    print("\tfld f%d, %d(tp)" % (r, FREGS_OFF + 8 * r))
print("\tld t0, %d(tp)" % (FREGS_OFF + 256))
print("\tfscsr t0")
print("\tli t0, 0x6000")  # FS initial: the first FP write makes it dirty
print("\tcsrc mstatus, t0")
print("\tli t0, 0x2000")
print("\tcsrs mstatus, t0")
for r in [1] + list(range(5, 8)) + list(range(9, 32)):
    print("\tld x%d, %d(tp)" % (r, 8 * r))
print("\tjr gp")
# The narrow-value cases come after the others, from a stream of their
# own: the seeds' other cases are the same as before they were added.
nrnd, nextra = random.Random(seed * 1000003 + 17), ncases // 4
cases = [case(c) for c in range(ncases)] + [narrow_case(c, nrnd) for c in range(ncases, ncases + nextra)]
for c, lines in enumerate(cases):
    print("case_%d:" % c)
    for line in lines:
        print(line if line.endswith(":") else "\t" + line)
print("""case_end:
	ld tp, 136(sp)""")
for r in [1] + list(range(5, 8)) + list(range(9, 32)):
    print("\tsd x%d, %d(tp)" % (r, 8 * r))
print("\tcsrr t0, mstatus")
print("\tsrli t0, t0, 13")
print("\tandi t0, t0, 3")
print("\tsd t0, %d(tp)" % (FREGS_OFF + 264))
print("\tli t0, 0x6000")
print("\tcsrs mstatus, t0")
for r in range(32):
    print("\tfsd f%d, %d(tp)" % (r, FREGS_OFF + 8 * r))
print("\tfrcsr t0")
print("\tsd t0, %d(tp)" % (FREGS_OFF + 256))
print("""	ld t0, 0(sp)
	csrw mtvec, t0
	addi sp, sp, 16
	ld ra, 0(sp)
	ld s0, 8(sp)
	ld s1, 16(sp)
	ld s2, 24(sp)
	ld s3, 32(sp)
	ld s4, 40(sp)
	ld s5, 48(sp)
	ld s6, 56(sp)
	ld s7, 64(sp)
	ld s8, 72(sp)
	ld s9, 80(sp)
	ld s10, 88(sp)
	ld s11, 96(sp)
	ld gp, 104(sp)
	ld tp, 112(sp)
	addi sp, sp, 128
	ret

	/* A fault: fold it into diff_trapsum, skip the instruction. */
	.align 2
diff_trap:
	addi sp, sp, -16
	sd t0, 0(sp)
	csrr gp, mepc
	lhu tp, 0(gp)
	andi tp, tp, 3
	addi gp, gp, 2
	addi tp, tp, -3
	bnez tp, 1f
	addi gp, gp, 2
1:	csrw mepc, gp
	la gp, diff_trapsum
	ld tp, 0(gp)
	slli t0, tp, 5
	add tp, tp, t0
	csrr t0, mcause
	add tp, tp, t0
	csrr t0, mtval
	add tp, tp, t0
	csrr t0, minstret
	add tp, tp, t0
	la t0, diff_case_instret
	ld t0, 0(t0)
	sub tp, tp, t0
	sd tp, 0(gp)
	ld t0, 0(sp)
	addi sp, sp, 16
	mret

	.section .rodata
	.align 3
	.globl diff_ncases
diff_ncases:
	.dword %d
case_table:""" % (ncases + nextra))
for c in range(ncases + nextra):
    print("\t.dword case_%d" % c)
