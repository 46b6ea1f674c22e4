/* Small helpers the BPF programs share (BPF side only). */
#ifndef VS_BPF_HIST_BPF_H
#define VS_BPF_HIST_BPF_H

/* The log2 bucket of v, for histograms of VS_LOCK_HIST buckets. */
static __always_inline __u32 vs_log2_bucket(__u64 v)
{
	__u32 b = 0;

	for (int i = 0; i < VS_LOCK_HIST - 1 && v > 1; i++) {
		v >>= 1;
		b++;
	}
	return b;
}

#endif
