// §3.3 local response normalisation as one fused CPU kernel per direction.
//
//   b[i] = a[i] * d[i]^-beta,   d[i] = k + alpha * sum_{j in window(i)} a[j]^2
//   da[j] = g[j] d[j]^-beta - 2 alpha beta a[j] * sum_{i: j in window(i)} g[i] a[i] d[i]^(-beta-1)
//
// With `relu`, a = max(x, 0) of the kernel's input x (conv1's and conv2's ReLUs, §3.3: LRN is
// applied "after applying the ReLU nonlinearity"), and the gradient is masked where a = 0.
//
// The input is channels_last: a pixel's C channels sit side by side, so each pixel is one
// row of C numbers and the window sum runs along the row. Every row is read once and
// written once (bf16, fp32 or fp64 in and out; the arithmetic in fp32, or fp64 for fp64);
// the backward pass recomputes d from a instead of storing it. Rows are shared out over
// torch's intra-op threads. Windows stay inside each of `groups` equal channel groups
// (the two columns of §3.2 normalise their own maps).
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <ATen/OpMathType.h>
#include <cmath>
#include <vector>

namespace {

constexpr int64_t kBlock = 32;   // pixel rows per block: the buffers stay in L1/L2

// A block of rows in a zero-padded layout: row r's group g occupies
// [(r * groups + g) * stride + lo, ... + width), with lo zeros before and hi zeros after, so the
// window sum over the whole block is lo + hi + 1 shifted adds along one long contiguous loop
// (values computed at pad positions are never read back). Long straight loops vectorise.
struct Layout {
  int64_t c, groups, width, lo, hi, stride;
  Layout(int64_t c_, int64_t groups_, int64_t size)
      : c(c_), groups(groups_), width(c_ / groups_), lo(size / 2), hi((size - 1) / 2),
        stride(c_ / groups_ + size - 1) {}
  int64_t length(int64_t rows) const { return rows * groups * stride; }
};

// dst[q] = sum_{j=0}^{span} src[q + j] for q < n (src holds n + span values).
template <typename T>
inline void shifted_sum(const T* __restrict__ src, T* __restrict__ dst, int64_t n, int64_t span) {
  for (int64_t q = 0; q < n; ++q) dst[q] = src[q];
  for (int64_t j = 1; j <= span; ++j)
    for (int64_t q = 0; q < n; ++q) dst[q] += src[q + j];
}

// rows [r0, r0 + n) of x (C values each) -> buf in the padded layout, as acc; with `relu`,
// max(x, 0): the ReLU before §3.3's normalisation, applied as the values are read
template <typename S, typename T>
inline void load(const S* __restrict__ x, T* __restrict__ buf, const Layout& L, int64_t n, bool relu) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < L.groups; ++g) {
      const S* src = x + r * L.c + g * L.width;
      T* dst = buf + (r * L.groups + g) * L.stride + L.lo;
      if (relu) {
        for (int64_t i = 0; i < L.width; ++i) { const T v = T(src[i]); dst[i] = v < T(0) ? T(0) : v; }  // NaN stays NaN
      } else {
        for (int64_t i = 0; i < L.width; ++i) dst[i] = T(src[i]);
      }
    }
}

// out rows = a * b at the interior positions: a in the padded layout (offset lo), b unpadded-aligned
template <typename S, typename T>
inline void store_product(S* __restrict__ out, const T* __restrict__ a, const T* __restrict__ b,
                          const Layout& L, int64_t n) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < L.groups; ++g) {
      const int64_t q = (r * L.groups + g) * L.stride;
      S* dst = out + r * L.c + g * L.width;
      for (int64_t i = 0; i < L.width; ++i) dst[i] = S(a[q + L.lo + i] * b[q + i]);
    }
}

// scale[q] = d[q]^-beta, d[q] = k + alpha * s[q]; beta = 3/4 (the paper's) without pow()
template <typename T>
inline void scale_of(const T* __restrict__ s, T* __restrict__ d, T* __restrict__ scale, int64_t n,
                     T alpha, T beta, T k) {
  for (int64_t q = 0; q < n; ++q) d[q] = k + alpha * s[q];
  if (beta == T(0.75)) {
    for (int64_t q = 0; q < n; ++q) { const T r = std::sqrt(d[q]); scale[q] = T(1) / (r * std::sqrt(r)); }
  } else {
    for (int64_t q = 0; q < n; ++q) scale[q] = std::pow(d[q], -beta);
  }
}

at::Tensor rows_of(const at::Tensor& a) {   // (B, C, H, W) channels_last -> its (B*H*W, C) rows
  TORCH_CHECK(a.dim() == 4 && a.is_contiguous(at::MemoryFormat::ChannelsLast),
              "lrn_kernel wants a channels_last (B, C, H, W) tensor");
  return a.permute({0, 2, 3, 1}).reshape({-1, a.size(1)});
}

at::Tensor forward(const at::Tensor& a, int64_t size, double alpha, double beta, double k, int64_t groups,
                   bool relu) {
  auto x = rows_of(a);
  auto out = at::empty_like(a);                                 // channels_last like a
  auto y = out.permute({0, 2, 3, 1}).reshape({-1, a.size(1)});  // a view of out's rows
  const Layout L(a.size(1), groups, size);
  const int64_t rows = x.size(0), span = L.lo + L.hi;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, a.scalar_type(), "lrn_forward", [&] {
    using acc = at::opmath_type<scalar_t>;
    const scalar_t* in = x.data_ptr<scalar_t>();
    scalar_t* o = y.data_ptr<scalar_t>();
    at::parallel_for(0, (rows + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
      const int64_t len = L.length(kBlock);
      std::vector<acc> av(len + span, acc(0)), sq(len + span, acc(0)), s(len), d(len), scale(len);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * kBlock, n = std::min(kBlock, rows - r0), m = L.length(n);
        load(in + r0 * L.c, av.data(), L, n, relu);
        for (int64_t q = 0; q < m; ++q) sq[q] = av[q] * av[q];
        shifted_sum(sq.data(), s.data(), m, span);             // s[q]: window centred at q + lo
        scale_of(s.data(), d.data(), scale.data(), m, acc(alpha), acc(beta), acc(k));
        store_product(o + r0 * L.c, av.data(), scale.data(), L, n);   // b = a d^-beta
      }
    });
  });
  return out;
}

at::Tensor backward(const at::Tensor& g_in, const at::Tensor& a, int64_t size, double alpha, double beta,
                    double k, int64_t groups, bool relu) {
  auto g = g_in.contiguous(at::MemoryFormat::ChannelsLast);
  auto x = rows_of(a), gr = rows_of(g);
  auto grad = at::empty_like(a);
  auto y = grad.permute({0, 2, 3, 1}).reshape({-1, a.size(1)});
  const Layout L(a.size(1), groups, size);
  const int64_t rows = x.size(0), span = L.lo + L.hi;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, a.scalar_type(), "lrn_backward", [&] {
    using acc = at::opmath_type<scalar_t>;
    const scalar_t* in = x.data_ptr<scalar_t>();
    const scalar_t* gin = gr.data_ptr<scalar_t>();
    scalar_t* o = y.data_ptr<scalar_t>();
    const acc two_ab = acc(2 * alpha * beta);
    at::parallel_for(0, (rows + kBlock - 1) / kBlock, 1, [&](int64_t b0, int64_t b1) {
      const int64_t len = L.length(kBlock);
      std::vector<acc> av(len + span, acc(0)), gv(len + span, acc(0)), sq(len + span, acc(0)),
          t(len + span, acc(0)), s(len), d(len), scale(len), w(len);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t r0 = b * kBlock, n = std::min(kBlock, rows - r0), m = L.length(n);
        load(in + r0 * L.c, av.data(), L, n, relu);
        load(gin + r0 * L.c, gv.data(), L, n, false);
        for (int64_t q = 0; q < m; ++q) sq[q] = av[q] * av[q];
        shifted_sum(sq.data(), s.data(), m, span);
        scale_of(s.data(), d.data(), scale.data(), m, acc(alpha), acc(beta), acc(k));
        // t at centre q + lo: g a d^(-beta-1); pads of t must stay zero, so write interiors only
        for (int64_t q = 0; q < m; ++q) s[q] = gv[q + L.lo] * av[q + L.lo] * scale[q] / d[q];
        for (int64_t r = 0; r < n * L.groups; ++r)
          for (int64_t i = 0; i < L.width; ++i) t[r * L.stride + L.hi + i] = s[r * L.stride + i];
        // sum over the windows that contain j (lo and hi swapped): centred at q + hi in t
        shifted_sum(t.data(), w.data(), m, span);
        for (int64_t q = 0; q < m; ++q)                         // reuse s: g d^-beta - 2ab a w
          s[q] = gv[q + L.lo] * scale[q] - two_ab * av[q + L.lo] * w[q];
        if (relu)                                               // the ReLU's gradient: 0 where a = 0
          for (int64_t q = 0; q < m; ++q) s[q] = av[q + L.lo] > acc(0) ? s[q] : acc(0);
        for (int64_t r = 0; r < n; ++r)
          for (int64_t gi = 0; gi < L.groups; ++gi) {
            scalar_t* dst = o + (r0 + r) * L.c + gi * L.width;
            const acc* src = s.data() + (r * L.groups + gi) * L.stride;
            for (int64_t i = 0; i < L.width; ++i) dst[i] = scalar_t(src[i]);
          }
      }
    });
  });
  return grad;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "LRN forward (channels_last)");
  m.def("backward", &backward, "LRN backward (channels_last), recomputing d from a");
}
