// The implicit QL eigenvalue loop of eigensolver.c, included there twice: once portable
// (ROTATION_NORM by sqrt and division) and once for AVX-512 (an estimate of 1/sqrt refined
// by Newton steps, which keeps the divider, the bottleneck of this latency-bound loop, free).
// The includer defines QL_FUNCTION, QL_LINKAGE and ROTATION_NORM(r2, r, inverse), which
// sets r = sqrt(r2) and inverse = 1/r.

// MARK: 2. Eigenvalues by implicit QL

/// The eigenvalues of T, ascending, into w (scaled problem), by the implicit QL method
/// with Wilkinson's shift (EISPACK's tql1; Golub & Van Loan §8.3.5) in lockstep: every lane
/// works on the same eigenvalue l at a time, each from its own first negligible
/// off-diagonal m, and a lane whose block has split (m == l) idles through the other
/// lanes' sweeps. Rotations r = sqrt(f² + g²) whose squares would underflow are
/// recomputed scaled by 2^600, as dlartg scales; nothing can overflow since T's norm is
/// below 4n. Sets `norm_out` to ||T||∞ and flags in `failed` the lanes where some
/// eigenvalue took more than 30 sweeps.
QL_LINKAGE void QL_FUNCTION(int64_t n, block *b, lanes *restrict w, lanes *norm_out, lane_mask *failed) {
    lanes *restrict off = b->e2;
    const lanes *restrict d = b->d, *restrict e = b->e;
    lanes norm = splat(0.0);
    for (int64_t i = 0; i < n; i++) {
        w[i] = d[i];
        off[i] = e[i];
        norm = max_lanes(norm, abs_lanes(d[i]) + abs_lanes(e[i]) + (i > 0 ? abs_lanes(e[i - 1]) : splat(0.0)));
    }
    *norm_out = norm;
    const double eps = DBL_EPSILON, tiny = 0x1p-600, boost = 0x1p600;
    for (int64_t l = 0; l < n; l++) {
        for (int sweep = 0;; sweep++) {
            // Each lane's m: the first negligible off[m], m >= l (off[n - 1] is 0).
            lanes m_lane = splat((double)(n - 1)), d_m = w[n - 1];
            lane_mask found = (lane_mask){0};
            int64_t top = n - 1;
            for (int64_t m = l; m < n - 1; m++) {
                const lanes size = abs_lanes(off[m]);
                const lane_mask negligible = (size <= eps * (abs_lanes(w[m]) + abs_lanes(w[m + 1]))) | (size < tiny);
                const lane_mask first = negligible & ~found;
                m_lane = select_lanes(first, splat((double)m), m_lane);
                d_m = select_lanes(first, w[m], d_m);
                found |= negligible;
                if (all_lanes(found)) { top = m; break; }
            }
            const lane_mask active = m_lane != (double)l;
            if (!any_lane(active)) break;
            if (sweep == 30) { *failed |= active; break; }
            const lanes e_l = select_lanes(active, off[l], splat(1.0));
            lanes g = (w[l + 1] - w[l]) / (2.0 * e_l);
            lanes r = sqrt_lanes(g * g + 1.0);
            g = d_m - w[l] + e_l / (g + copysign_lanes(r, g));
            lanes s = splat(1.0), c = splat(1.0), p = splat(0.0);
            lane_mask stopped = (lane_mask){0};
            for (int64_t i = top - 1; i >= l; i--) {
                const lane_mask live = active & (m_lane > (double)i) & ~stopped;
                const lanes f = s * off[i], bb = c * off[i];
                const lanes r2 = f * f + g * g;
                lanes inverse;
                ROTATION_NORM(r2, r, inverse);
                const lane_mask underflow = live & (r2 < 0x1p-1000) & ((f != 0.0) | (g != 0.0));
                if (any_lane(underflow)) {
                    const lanes fs = f * boost, gs = g * boost;
                    const lanes scaled = sqrt_lanes(fs * fs + gs * gs);
                    r = select_lanes(underflow, scaled * (1.0 / boost), r);
                    inverse = select_lanes(underflow, boost / scaled, inverse);
                }
                off[i + 1] = select_lanes(live, r, off[i + 1]);
                // r == 0: the block splits here (tql1's recovery from underflow).
                const lane_mask split = live & (r == 0.0);
                w[i + 1] = select_lanes(split, w[i + 1] - p, w[i + 1]);
                stopped |= split;
                const lane_mask rotate = live & ~split;
                inverse = select_lanes(rotate, inverse, splat(1.0));
                const lanes s_new = f * inverse, c_new = g * inverse;
                const lanes g_new = w[i + 1] - p;
                const lanes r_new = (w[i] - g_new) * s_new + 2.0 * c_new * bb;
                const lanes p_new = s_new * r_new;
                w[i + 1] = select_lanes(rotate, g_new + p_new, w[i + 1]);
                g = select_lanes(rotate, c_new * r_new - bb, g);
                s = select_lanes(rotate, s_new, s);
                c = select_lanes(rotate, c_new, c);
                p = select_lanes(rotate, p_new, p);
            }
            const lane_mask completed = active & ~stopped;
            w[l] = select_lanes(completed, w[l] - p, w[l]);
            off[l] = select_lanes(completed, g, off[l]);
            for (int64_t i = l; i <= top; i++) off[i] = select_lanes(active & (m_lane == (double)i), splat(0.0), off[i]);
        }
    }
    // Ascending order: odd-even transposition sort, n rounds of compare-exchange.
    for (int64_t round = 0; round < n; round++) {
        for (int64_t i = round & 1; i + 1 < n; i += 2) {
            const lanes low = min_lanes(w[i], w[i + 1]), high = max_lanes(w[i], w[i + 1]);
            w[i] = low;
            w[i + 1] = high;
        }
    }
}

