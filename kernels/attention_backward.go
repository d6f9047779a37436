package kernels

import "math"

// backwardHead computes the gradients of head nh (one task): the key tiles
// in order, and for each the query tiles in order, so that every dK and dV
// row accumulates over the queries, and every dQ row over the keys, in
// index order whatever the worker count.
func (a *attnArgs) backwardHead(w *workerScratch, s *attnScratch, nh int) {
	sh := a.sh
	b := a.b
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
				gemmBlock(&b.gemm, &gemmArgs{transA: true, m: cols, n: sh.DV, k: rows, alpha: 1,
					a: pd, lda: attnBc, b: doi, ldb: a.do.RowStride,
					load: true, c: a.dv.Data[base(a.dv, n, h, j0):], ldc: a.dv.RowStride}, &w.gemm, 0, cols, 0, sh.DV)
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
					gemmBlock(&b.gemm, &gemmArgs{transB: true, m: r1 - r0, n: ce, k: sh.DV, alpha: 1,
						a: doi[r0*a.do.RowStride:], lda: a.do.RowStride, b: a.v.Data[base(a.v, n, h, j0):], ldb: a.v.RowStride,
						c: dp, ldc: attnBc}, &w.gemm, 0, r1-r0, 0, ce)
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
					gemmBlock(&b.gemm, &gemmArgs{m: r1 - r0, n: sh.DK, k: ce, alpha: 1,
						a: dp, lda: attnBc, b: a.k.Data[base(a.k, n, h, j0):], ldb: a.k.RowStride,
						load: true, c: a.dq.Data[base(a.dq, n, h, i0+r0):], ldc: a.dq.RowStride}, &w.gemm, 0, r1-r0, 0, sh.DK)
				}
			}
			if wantK { // dK[j] += dSᵀ·Q
				gemmBlock(&b.gemm, &gemmArgs{transA: true, m: cols, n: sh.DK, k: rows, alpha: 1,
					a: s.dp, lda: attnBc, b: a.q.Data[base(a.q, n, h, i0):], ldb: a.q.RowStride,
					load: true, c: a.dk.Data[base(a.dk, n, h, j0):], ldc: a.dk.RowStride}, &w.gemm, 0, cols, 0, sh.DK)
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
