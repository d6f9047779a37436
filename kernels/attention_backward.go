package kernels

import "math"

// backwardHead computes the gradients of head nh (one task): the key tiles
// in order, and for each the query tiles in order, so that every dK and dV
// row accumulates over the queries, and every dQ row over the keys, in
// index order whatever the worker count.
func (a *attnArgs) backwardHead(w *workerScratch, s *attnScratch, nh int) {
	sh := a.sh
	b := a.b
	kr := &b.gemm
	n, h := nh/sh.H, nh%sh.H
	ninf := float32(math.Inf(-1))
	st := a.stats[2*nh*sh.L:]
	wantQ, wantK, wantV := a.dq.Data != nil && sh.DK > 0, a.dk.Data != nil && sh.DK > 0, a.dv.Data != nil && sh.DV > 0
	if !a.accumulate { // every chain starts from +0
		if wantQ {
			attnClearRows(a.dq, n, h, sh.L, sh.DK)
		}
		if wantK {
			attnClearRows(a.dk, n, h, sh.S, sh.DK)
		}
		if wantV {
			attnClearRows(a.dv, n, h, sh.S, sh.DV)
		}
	}
	if !wantQ && !wantK && !wantV {
		return
	}
	// D[l] = dot32(dO[l], O[l]) = rowsum(P ∘ dP) (= rowsum(dropout(P) ∘ dO·Vᵀ)).
	d := s.d[:sh.L]
	if wantQ || wantK {
		for l := range d {
			d[l] = 0
			if st[2*l] != ninf {
				d[l] = b.dot(a.do.Data[base(a.do, n, h, l):][:sh.DV], a.o.Data[base(a.o, n, h, l):][:sh.DV])
			}
		}
	}
	for j0 := 0; j0 < sh.S; j0 += attnBc {
		for qt := 0; qt < a.nq; qt++ {
			i0 := qt * attnBr
			rows := min(attnBr, sh.L-i0)
			kend := a.attnKeyEnd(i0, rows)
			if j0 >= kend {
				continue
			}
			cols := min(attnBc, kend-j0) // as in the forward
			// P = exp(v - m) · (1/ℓ), and its dropped form P·z, where the
			// row z = dropout(1) (keep ? 1/(1-p) : 0) is hashed once for
			// both uses: x·z has the bits of Dropout(x). Row blocks the
			// causal mask cuts (attnBlock) compute their ce visible keys;
			// the rest of the tile row is +0, like every masked P.
			pd := s.s
			if a.dropout {
				pd = s.p
			}
			for r0, r1 := 0, 0; r0 < rows; r0 = r1 {
				var ce int
				r1, ce = a.attnBlock(i0, rows, r0, j0, cols)
				ce = max(ce, 0)
				if ce > 0 {
					a.scores(w, s, nh, i0+r0, r0, r1-r0, j0, ce)
				}
				for r := r0; r < r1; r++ {
					row := s.s[r*attnBc : r*attnBc+cols]
					m := st[2*(i0+r)]
					if m == ninf || ce == 0 {
						clear(row)
						if a.dropout {
							clear(pd[r*attnBc : r*attnBc+cols])
						}
						continue
					}
					clear(row[ce:])
					row = row[:ce]
					b.attnExpRow(row, m)
					b.scale(row, row, 1/st[2*(i0+r)+1])
					if a.dropout {
						z := s.z[r*attnBc : r*attnBc+ce]
						a.dropoutRow(z, s.ones[:ce], nh, i0+r, j0)
						b.mul(pd[r*attnBc:r*attnBc+ce], row, z)
						clear(pd[r*attnBc+ce : r*attnBc+cols])
					}
				}
			}
			doi := a.do.Data[base(a.do, n, h, i0):]
			if wantV { // dV[j] += dropout(P)ᵀ·dO
				ap := attnPackA(kr, s, pd, attnBc, true, cols, rows)
				bp := a.tile(s, &s.doB, a.do, nh, sh.L, attnBr, sh.DV, false, qt)
				attnProduct(kr, w, ap, cols, rows, bp, rows, sh.DV, a.dv.Data[base(a.dv, n, h, j0):], a.dv.RowStride, true)
			}
			if !wantQ && !wantK {
				continue
			}
			// dP = dropout(dO·Vᵀ); dS = (P ∘ (dP − D))·scale into s.dp,
			// +0 beyond a block's visible keys; dQ[i] += dS·K per block.
			scale := a.scale
			for r0, r1 := 0, 0; r0 < rows; r0 = r1 {
				var ce int
				r1, ce = a.attnBlock(i0, rows, r0, j0, cols)
				ce = max(ce, 0)
				dp := s.dp[r0*attnBc : r1*attnBc]
				if sh.DV == 0 || ce == 0 {
					clear(dp)
				} else {
					ap := attnPackA(kr, s, doi[r0*a.do.RowStride:], a.do.RowStride, false, r1-r0, sh.DV)
					bp := a.tile(s, &s.vT, a.v, nh, sh.S, attnBc, sh.DV, true, j0/attnBc)
					attnProduct(kr, w, ap, r1-r0, sh.DV, bp, sh.DV, ce, dp, attnBc, false)
				}
				for r := r0; r < r1; r++ {
					l := i0 + r
					dprow := s.dp[r*attnBc : r*attnBc+cols]
					if st[2*l] == ninf || ce == 0 {
						clear(dprow)
						continue
					}
					clear(dprow[ce:])
					dprow = dprow[:ce]
					if a.dropout {
						b.mul(dprow, dprow, s.z[r*attnBc:r*attnBc+ce])
					}
					b.attnGradRow(dprow, s.s[r*attnBc:r*attnBc+ce], d[l], scale)
				}
				if wantQ && ce > 0 { // dQ[i] += dS·K
					ap := attnPackA(kr, s, dp, attnBc, false, r1-r0, ce)
					bp := a.tile(s, &s.kB, a.k, nh, sh.S, attnBc, sh.DK, false, j0/attnBc)
					attnProduct(kr, w, ap, r1-r0, ce, bp, min(attnBc, sh.S-j0), sh.DK,
						a.dq.Data[base(a.dq, n, h, i0+r0):], a.dq.RowStride, true)
				}
			}
			if wantK { // dK[j] += dSᵀ·Q
				ap := attnPackA(kr, s, s.dp, attnBc, true, cols, rows)
				bp := a.tile(s, &s.qB, a.q, nh, sh.L, attnBr, sh.DK, false, qt)
				attnProduct(kr, w, ap, cols, rows, bp, rows, sh.DK, a.dk.Data[base(a.dk, n, h, j0):], a.dk.RowStride, true)
			}
		}
	}
}

// attnClearRows zeroes rows×cols of head (n, h) of op.
func attnClearRows(op AttentionOperand, n, h, rows, cols int) {
	for t := 0; t < rows; t++ {
		i := base(op, n, h, t)
		clear(op.Data[i : i+cols])
	}
}
