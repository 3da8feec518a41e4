/* Start-up for C guest programs: every hart gets a 16 KiB stack and calls
 * main(hartid); main's return value is the exit status through HTIF. Only
 * hart 0 clears .bss; the others wait for it. */
	.section .text.init
	.globl _start
_start:
	.option push
	.option norelax
	la gp, __global_pointer$
	.option pop
	csrr a0, mhartid
	li t0, 64
	bgeu a0, t0, park
	la sp, __stack_top
	slli t1, a0, 14
	sub sp, sp, t1
	la t0, trap_entry
	csrw mtvec, t0
	/* C code may save FP registers in any prologue: turn the FPU on. */
	li t0, 1 << 13
	csrs mstatus, t0
	bnez a0, wait_bss
	la t0, __bss_start
	la t1, __bss_end
1:	bgeu t0, t1, 2f
	sd zero, 0(t0)
	addi t0, t0, 8
	j 1b
2:	fence
	la t0, bss_ready
	li t1, 1
	sw t1, 0(t0)
	j go
wait_bss:
	la t0, bss_ready
3:	lw t1, 0(t0)
	beqz t1, 3b
	fence
go:
	csrr a0, mhartid
	call main
	j exit_a0
park:
	wfi
	j park

	/* An unexpected trap: report mcause as the exit status (plus 100). */
	.align 2
trap_entry:
	csrr a0, mcause
	addi a0, a0, 100
	/* exit with status a0: tohost = (a0 << 1) | 1 */
exit_a0:
	slli a0, a0, 1
	ori a0, a0, 1
	la t0, tohost
	sd a0, 0(t0)
4:	j 4b

	.section .tohost, "aw", @progbits
	.align 6
	.globl tohost
tohost: .dword 0
	.size tohost, 8
	.align 6
	.globl fromhost
fromhost: .dword 0
	.size fromhost, 8

	.data
	.align 3
bss_ready: .word 0
