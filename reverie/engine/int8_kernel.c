/* Int8 dot products for retrieval's cosine estimates (reverie/engine/int8_kernel.py
   compiles this for the machine it runs on and loads it with ctypes).

   out[j][i] = dot(q[j], codes[i]) * qscale[j] * scales[i], for `rows` rows of `d` int8
   codes and `nq` int8 queries, each with one scale. The integer dot product is exact
   (int32: |sum| <= d * 127 * 127); the only rounding is the two float multiplications
   at the end. Several queries walk the rows in blocks that stay in the core's L2
   cache, so the codes are read from memory once for all of them.

   AVX-512 VNNI multiplies unsigned by signed bytes, so the query goes in as q + 128
   and 128 * sum(codes[i]) (`rowsum`, kept with the codes) comes off again. AVX2 has
   no such instruction: it takes |q| times codes with q's sign (products of at most
   127 * 127, so the 16-bit pair sums cannot saturate). Without either there is no
   path here and the caller uses torch's kernel. */

#include <stdint.h>
#include <immintrin.h>

#define MAX_DIM 8192

/* 2: AVX-512 VNNI, 1: AVX2, 0: none (the caller must not call int8_cosines). */
int int8_cosines_path(void) {
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)
    return 2;
#elif defined(__AVX2__)
    return 1;
#else
    return 0;
#endif
}

int int8_cosines_max_dim(void) { return MAX_DIM; }

#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)

static void block(const int8_t *q, const uint8_t *shifted, const int8_t *codes, const int32_t *rowsum,
                  const float *scales, float qscale, int64_t rows, int64_t d, float *out) {
    const int64_t blocks = d / 64, rest = d % 64;
    const __mmask64 tail = rest ? (((__mmask64)1 << rest) - 1) : 0;
    int64_t i = 0;
    /* Four rows at a time: each query block is loaded once for four rows. */
    for (; i + 4 <= rows; i += 4) {
        const int8_t *r0 = codes + i * d, *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t b = 0; b < blocks; b++) {
            const __m512i qv = _mm512_load_si512(shifted + b * 64);
            a0 = _mm512_dpbusd_epi32(a0, qv, _mm512_loadu_si512(r0 + b * 64));
            a1 = _mm512_dpbusd_epi32(a1, qv, _mm512_loadu_si512(r1 + b * 64));
            a2 = _mm512_dpbusd_epi32(a2, qv, _mm512_loadu_si512(r2 + b * 64));
            a3 = _mm512_dpbusd_epi32(a3, qv, _mm512_loadu_si512(r3 + b * 64));
        }
        if (rest) {
            const __m512i qv = _mm512_maskz_loadu_epi8(tail, shifted + blocks * 64);
            a0 = _mm512_dpbusd_epi32(a0, qv, _mm512_maskz_loadu_epi8(tail, r0 + blocks * 64));
            a1 = _mm512_dpbusd_epi32(a1, qv, _mm512_maskz_loadu_epi8(tail, r1 + blocks * 64));
            a2 = _mm512_dpbusd_epi32(a2, qv, _mm512_maskz_loadu_epi8(tail, r2 + blocks * 64));
            a3 = _mm512_dpbusd_epi32(a3, qv, _mm512_maskz_loadu_epi8(tail, r3 + blocks * 64));
        }
        out[i] = (float)(_mm512_reduce_add_epi32(a0) - 128 * rowsum[i]) * (qscale * scales[i]);
        out[i + 1] = (float)(_mm512_reduce_add_epi32(a1) - 128 * rowsum[i + 1]) * (qscale * scales[i + 1]);
        out[i + 2] = (float)(_mm512_reduce_add_epi32(a2) - 128 * rowsum[i + 2]) * (qscale * scales[i + 2]);
        out[i + 3] = (float)(_mm512_reduce_add_epi32(a3) - 128 * rowsum[i + 3]) * (qscale * scales[i + 3]);
    }
    for (; i < rows; i++) {
        const int8_t *r = codes + i * d;
        int32_t acc = 0;
        for (int64_t j = 0; j < d; j++) acc += (int32_t)q[j] * (int32_t)r[j];
        out[i] = (float)acc * (qscale * scales[i]);
    }
}

#elif defined(__AVX2__)

static inline int32_t sum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static void block(const int8_t *q, const uint8_t *shifted, const int8_t *codes, const int32_t *rowsum,
                  const float *scales, float qscale, int64_t rows, int64_t d, float *out) {
    (void)shifted;
    (void)rowsum;
    const int64_t blocks = d / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < rows; i++) {
        const int8_t *r = codes + i * d;
        __m256i acc = _mm256_setzero_si256();
        for (int64_t b = 0; b < blocks; b++) {
            const __m256i qv = _mm256_loadu_si256((const __m256i *)(q + b * 32));
            const __m256i rv = _mm256_loadu_si256((const __m256i *)(r + b * 32));
            const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(qv), _mm256_sign_epi8(rv, qv));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        int32_t total = sum8(acc);
        for (int64_t j = blocks * 32; j < d; j++) total += (int32_t)q[j] * (int32_t)r[j];
        out[i] = (float)total * (qscale * scales[i]);
    }
}

#endif

#if defined(__AVX2__)

/* Rows per block: 512 x 384 bytes stays in L2 while every query passes over it. */
#define BLOCK_ROWS 512

void int8_cosines(const int8_t *q, const float *qscale, int64_t nq, const int8_t *codes, const int32_t *rowsum,
                  const float *scales, int64_t rows, int64_t d, float *out) {
    uint8_t shifted[MAX_DIM] __attribute__((aligned(64)));
    for (int64_t start = 0; start < rows; start += BLOCK_ROWS) {
        const int64_t count = rows - start < BLOCK_ROWS ? rows - start : BLOCK_ROWS;
        for (int64_t j = 0; j < nq; j++) {
            const int8_t *query = q + j * d;
            if (nq > 1 || start == 0)
                for (int64_t k = 0; k < d; k++) shifted[k] = (uint8_t)(query[k] + 128);
            block(query, shifted, codes + start * d, rowsum + start, scales + start, qscale[j], count, d,
                  out + j * rows + start);
        }
    }
}

#endif
