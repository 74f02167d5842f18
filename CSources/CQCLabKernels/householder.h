// The Householder tridiagonalization of eigensolver.c, included there twice: once for real
// symmetric A (dsytd2) and once for complex Hermitian A (zhetd2). Both are written here as
// the complex step; the real one is that step with the imaginary parts left out, so each
// instance keeps its own operation order. The includer defines:
//
// - HH_FUNCTION: the function's name;
// - HH_IM(...): its arguments for the complex instance, nothing for the real one (the
//   imaginary parts' declarations, statements and terms);
// - HH_UNREFLECTED: how many last columns get no reflector: 2 for real A, whose last
//   subdiagonal element is already real, 1 for Hermitian A, where one more reflector makes
//   it real;
// - HH_LARGEST_PART(x, y): the larger of |x| and |y| (|x| for real A);
// - HH_MULTIPLIER(reflect, factor, dr, di, mr, mi): declares mr + i mi = factor / (dr + i di)
//   in the lanes of `reflect`, 0 elsewhere (real A divides once; complex A multiplies by
//   the conjugate over |d|²);
// - HH_HALF(t_r, t_i, x_r, x_i, h_r, h_i): declares h = -(t/2) x (real A evaluates
//   (-t/2) x, complex A -(t x)/2).
//
// The parameters are undefined at the end, ready for the next instance.

/// A = Q T Qᴴ with T real symmetric tridiagonal (lower triangle). T's diagonal goes to d,
/// its subdiagonal to e (e[k] couples k and k + 1); reflector k is I - τ v vᴴ acting on
/// components k + 1 ... n - 1 with v = (1, reflectors[k n ...]) and τ in tau (and tau_im:
/// complex τ, as zlarfg, which leaves a real β on the subdiagonal). A's largest element is
/// below 2, so the sums of squares cannot overflow; a column whose largest part (and so its
/// norm) is below 2^-450 is scaled up by 2^600 first, as dlarfg rescales a reflector whose
/// norm is below the safe minimum.
INLINE void HH_FUNCTION(int64_t n, block *b) {
    lanes *restrict ar = b->a, *restrict vr = b->y, *restrict pr = b->p;
    HH_IM(lanes *restrict ai = b->a_im, *restrict vi = b->y_im, *restrict pi = b->p_im;)
    const double tiny = 0x1p-450, boost = 0x1p600;
    for (int64_t k = 0; k + HH_UNREFLECTED < n; k++) {
        const int64_t o = k + 1, m = n - o;
        const lanes alpha_r = ar[packed(o, k)] HH_IM(, alpha_i = ai[packed(o, k)]);
        lanes sum = splat(0.0), largest = HH_LARGEST_PART(alpha_r, alpha_i);
        for (int64_t i = 1; i < m; i++) {
            const lanes x = ar[packed(o + i, k)] HH_IM(, y = ai[packed(o + i, k)]);
            sum += x * x HH_IM(+ y * y);
            largest = max_lanes(largest, HH_LARGEST_PART(x, y));
        }
        lanes factor = splat(1.0);
        lane_mask small = (largest > 0.0) & (largest < tiny);
        if (any_lane(small)) {
            for (int round = 0; round < 3 && any_lane(small); round++) {
                factor = select_lanes(small, factor * boost, factor);
                small = (largest * factor > 0.0) & (largest * factor < tiny);
            }
            sum = splat(0.0);
            for (int64_t i = 1; i < m; i++) {
                const lanes x = ar[packed(o + i, k)] * factor HH_IM(, y = ai[packed(o + i, k)] * factor);
                sum += x * x HH_IM(+ y * y);
            }
        }
        const lanes sr = alpha_r * factor HH_IM(, si = alpha_i * factor);
        const lane_mask reflect = (sum > 0.0) HH_IM(| (si != 0.0));
        const lanes beta = -copysign_lanes(sqrt_lanes(sr * sr HH_IM(+ si * si) + sum), sr);
        const lanes tr = select_lanes(reflect, (beta - sr) / beta, splat(0.0));
        HH_IM(const lanes ti = select_lanes(reflect, -si / beta, splat(0.0));)
        // The reflector's tail is the column times factor / (α - β).
        HH_MULTIPLIER(reflect, factor, sr - beta, si, mr, mi);
        b->e[k] = select_lanes(reflect, beta / factor, alpha_r);
        b->tau[k] = tr;
        HH_IM(b->tau_im[k] = ti;)
        b->d[k] = ar[packed(k, k)];
        lanes *restrict tail_r = b->reflectors + k * n;
        HH_IM(lanes *restrict tail_i = b->reflectors_im + k * n;)
        vr[0] = splat(1.0);
        HH_IM(vi[0] = splat(0.0);)
        for (int64_t i = 1; i < m; i++) {
            const lanes x = ar[packed(o + i, k)] HH_IM(, y = ai[packed(o + i, k)]);
            vr[i] = x * mr HH_IM(- y * mi);
            HH_IM(vi[i] = x * mi + y * mr;)
            tail_r[i - 1] = vr[i];
            HH_IM(tail_i[i - 1] = vi[i];)
        }
        // p = τ A22 v from the lower triangle (A22's diagonal real).
        for (int64_t i = 0; i < m; i++) {
            pr[i] = splat(0.0);
            HH_IM(pi[i] = splat(0.0);)
        }
        for (int64_t i = 0; i < m; i++) {
            const lanes *restrict rr = ar + packed(o + i, o) HH_IM(, *restrict ri = ai + packed(o + i, o));
            const lanes xr = vr[i] HH_IM(, xi = vi[i]);
            lanes dot_r = rr[i] * xr HH_IM(, dot_i = rr[i] * xi);
            for (int64_t j = 0; j < i; j++) {
                // A_ij v_j into row i; conj(A_ij) v_i into row j.
                dot_r += rr[j] * vr[j] HH_IM(- ri[j] * vi[j]);
                HH_IM(dot_i += rr[j] * vi[j] + ri[j] * vr[j];)
                pr[j] += rr[j] * xr HH_IM(+ ri[j] * xi);
                HH_IM(pi[j] += rr[j] * xi - ri[j] * xr;)
            }
            pr[i] += dot_r;
            HH_IM(pi[i] += dot_i;)
        }
        lanes pv_r = splat(0.0) HH_IM(, pv_i = splat(0.0));
        for (int64_t i = 0; i < m; i++) {
            const lanes xr = pr[i] HH_IM(, xi = pi[i]);
            pr[i] = tr * xr HH_IM(- ti * xi);
            HH_IM(pi[i] = tr * xi + ti * xr;)
            // pᴴ v
            pv_r += pr[i] * vr[i] HH_IM(+ pi[i] * vi[i]);
            HH_IM(pv_i += pr[i] * vi[i] - pi[i] * vr[i];)
        }
        // w = p - (τ/2)(pᴴ v) v
        HH_HALF(tr, ti, pv_r, pv_i, hr, hi);
        for (int64_t i = 0; i < m; i++) {
            pr[i] += hr * vr[i] HH_IM(- hi * vi[i]);
            HH_IM(pi[i] += hr * vi[i] + hi * vr[i];)
        }
        // A22 -= v wᴴ + w vᴴ (lower triangle; the diagonal stays real).
        for (int64_t i = 0; i < m; i++) {
            lanes *restrict rr = ar + packed(o + i, o) HH_IM(, *restrict ri = ai + packed(o + i, o));
            const lanes xr = vr[i] HH_IM(, xi = vi[i]), wr = pr[i] HH_IM(, wi = pi[i]);
            for (int64_t j = 0; j <= i; j++) {
                rr[j] -= xr * pr[j] HH_IM(+ xi * pi[j]) + wr * vr[j] HH_IM(+ wi * vi[j]);
                HH_IM(ri[j] -= xi * pr[j] - xr * pi[j] + wi * vr[j] - wr * vi[j];)
            }
            HH_IM(ri[i] = splat(0.0);)
        }
    }
    if (HH_UNREFLECTED == 2 && n >= 2) {
        b->d[n - 2] = ar[packed(n - 2, n - 2)];
        b->e[n - 2] = ar[packed(n - 1, n - 2)];
    }
    b->d[n - 1] = ar[packed(n - 1, n - 1)];
    b->e[n - 1] = splat(0.0);
}

#undef HH_FUNCTION
#undef HH_IM
#undef HH_UNREFLECTED
#undef HH_LARGEST_PART
#undef HH_MULTIPLIER
#undef HH_HALF
