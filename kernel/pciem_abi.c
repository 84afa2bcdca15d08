// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copying PCIem's self-sized ABI structures in and out of userspace.
 *
 * Every structure starts with u32 size and u32 flags. A caller built
 * against an older header passes a smaller size, a newer one a larger
 * size; copy_struct_from_user() implements exactly the rule the ABI
 * promises (zero-fill what the caller lacks, refuse non-zero bytes the
 * kernel does not know).
 */
#include <linux/uaccess.h>

#include "pciem.h"

/*
 * Bound on the size field: the structures are small, and an absurd size
 * would only make copy_struct_from_user() scan user memory for zeroes.
 */
#define PCIEM_MAX_STRUCT_SIZE	PAGE_SIZE

/**
 * pciem_copy_struct_in() - copy a self-sized structure from userspace
 * @dst:	kernel copy, @ksize bytes
 * @ksize:	the size this kernel knows
 * @minsize:	the first published size of the structure
 * @src:	user pointer
 *
 * Return: the caller's size, or -EFAULT, -EINVAL (too small) or -E2BIG
 * (too large, or larger with non-zero bytes this kernel does not know).
 */
int pciem_copy_struct_in(void *dst, size_t ksize, size_t minsize,
			 const void __user *src)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize < minsize)
		return -EINVAL;
	if (usize > PCIEM_MAX_STRUCT_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(dst, ksize, src, usize);
	return ret ? ret : usize;
}

/**
 * pciem_copy_struct_out() - copy results back, leaving size and flags
 * @dst:	user pointer
 * @usize:	the caller's size, as returned by pciem_copy_struct_in()
 * @src:	kernel copy
 * @ksize:	its size
 *
 * Only the bytes both sides know are written; a larger caller's tail was
 * checked to be zero on the way in and stays so.
 */
int pciem_copy_struct_out(void __user *dst, size_t usize, const void *src,
			  size_t ksize)
{
	const size_t skip = 2 * sizeof(u32);
	size_t n = min(usize, ksize);

	if (n > skip && copy_to_user(dst + skip, src + skip, n - skip))
		return -EFAULT;
	return 0;
}
