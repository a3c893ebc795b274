/*
 * The tiny VirtualBox VM's whole guest: a 512-byte boot sector that writes
 * one marker line to COM1 and halts.  The BIOS loads it at 0x7c00 in real
 * mode.  Each byte waits for the UART's transmitter holding register to be
 * empty (LSR bit 5): writing without waiting loses output now and then.
 */
	.code16
	.set	COM1, 0x3f8
	.set	LSR, COM1 + 5
	.set	THRE, 0x20

	.text
	.globl	_start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7c00, %sp
	cld
	/* 8N1, divisor 1 (115200 baud), FIFOs on, DTR and RTS up. */
	movw	$COM1 + 3, %dx
	movb	$0x80, %al
	outb	%al, %dx
	movw	$COM1, %dx
	movb	$1, %al
	outb	%al, %dx
	movw	$COM1 + 1, %dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$COM1 + 3, %dx
	movb	$0x03, %al
	outb	%al, %dx
	movw	$COM1 + 2, %dx
	movb	$0xc7, %al
	outb	%al, %dx
	movw	$COM1 + 4, %dx
	movb	$0x03, %al
	outb	%al, %dx

	movw	$marker, %si
next:
	lodsb
	testb	%al, %al
	jz	done
	movb	%al, %bl
	movw	$LSR, %dx
wait_thre:
	inb	%dx, %al
	testb	$THRE, %al
	jz	wait_thre
	movw	$COM1, %dx
	movb	%bl, %al
	outb	%al, %dx
	jmp	next
done:
	cli
	hlt
	jmp	done

marker:
	.asciz	"VIRTD-VBOX-MARKER: the tiny VM booted\r\n"

	.org	510
	.byte	0x55, 0xaa
