#pragma once
// Flushing subnormal floats to zero on the calling thread.

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define NIF_HAS_MXCSR 1
#endif

namespace ad {

/// While alive (and `on`), the calling thread's vector arithmetic flushes subnormal results to
/// zero and reads subnormal operands as zero (x86 MXCSR bits FTZ and DAZ); the previous mode is
/// restored at scope exit. Training pushes many values into the subnormal range (saturated
/// sigmoids, squared tiny gradients in Adam), and every such operand costs a microcode assist of
/// ~100 cycles on x86: it halved the speed of a 5000-epoch run, whose loss history came out the
/// same with the flush. TensorFlow's CPU executor runs its kernels in this mode too. The mode is
/// per thread, so every worker thread takes its own guard. A no-op on other architectures.
class FlushSubnormals {
 public:
  explicit FlushSubnormals(bool on = true) {
#ifdef NIF_HAS_MXCSR
    saved_ = _mm_getcsr();
    if (on) _mm_setcsr(saved_ | kFlushToZero | kDenormalsAreZero);
#else
    (void)on;
#endif
  }
  ~FlushSubnormals() {
#ifdef NIF_HAS_MXCSR
    _mm_setcsr(saved_);
#endif
  }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  static constexpr unsigned kFlushToZero = 0x8000;
  static constexpr unsigned kDenormalsAreZero = 0x0040;
  unsigned saved_ = 0;
};

}  // namespace ad
