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
		cols := min(attnBc, sh.S-j0)
		for qt := 0; qt < a.nq; qt++ {
			i0 := qt * attnBr
			rows := min(attnBr, sh.L-i0)
			if j0 >= a.attnKeyEnd(i0, rows) {
				continue
			}
			a.scores(w, s, nh, i0, rows, j0, cols)
			// P = exp(v - m) · (1/ℓ), and its dropped form P·z, where the
			// row z = dropout(1) (keep ? 1/(1-p) : 0) is hashed once for
			// both uses: x·z has the bits of Dropout(x).
			pd := s.s
			if a.dropout {
				pd = s.p
			}
			for r := 0; r < rows; r++ {
				row := s.s[r*attnBc : r*attnBc+cols]
				m := st[2*(i0+r)]
				if m == ninf {
					clear(row)
					if a.dropout {
						clear(pd[r*attnBc : r*attnBc+cols])
					}
					continue
				}
				b.attnExpRow(row, m)
				b.scale(row, row, 1/st[2*(i0+r)+1])
				if a.dropout {
					z := s.z[r*attnBc : r*attnBc+cols]
					a.dropoutRow(z, s.ones[:cols], nh, i0+r, j0)
					b.mul(pd[r*attnBc:r*attnBc+cols], row, z)
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
			// dP = dropout(dO·Vᵀ); dS = (P ∘ (dP − D))·scale into s.dp.
			dp := s.dp[:rows*attnBc]
			if sh.DV == 0 {
				clear(dp)
			} else {
				gemmBlock(&b.gemm, &gemmArgs{transB: true, m: rows, n: cols, k: sh.DV, alpha: 1,
					a: doi, lda: a.do.RowStride, b: a.v.Data[base(a.v, n, h, j0):], ldb: a.v.RowStride,
					c: dp, ldc: attnBc}, &w.gemm, 0, rows, 0, cols)
			}
			scale := a.scale
			for r := 0; r < rows; r++ {
				l := i0 + r
				dprow := dp[r*attnBc : r*attnBc+cols]
				if st[2*l] == ninf {
					clear(dprow)
					continue
				}
				if a.dropout {
					b.mul(dprow, dprow, s.z[r*attnBc:r*attnBc+cols])
				}
				b.attnGradRow(dprow, s.s[r*attnBc:r*attnBc+cols], d[l], scale)
			}
			if wantQ { // dQ[i] += dS·K
				gemmBlock(&b.gemm, &gemmArgs{m: rows, n: sh.DK, k: cols, alpha: 1,
					a: dp, lda: attnBc, b: a.k.Data[base(a.k, n, h, j0):], ldb: a.k.RowStride,
					load: true, c: a.dq.Data[base(a.dq, n, h, i0):], ldc: a.dq.RowStride}, &w.gemm, 0, rows, 0, sh.DK)
			}
			if wantK { // dK[j] += dSᵀ·Q
				gemmBlock(&b.gemm, &gemmArgs{transA: true, m: cols, n: sh.DK, k: rows, alpha: 1,
					a: dp, lda: attnBc, b: a.q.Data[base(a.q, n, h, i0):], ldb: a.q.RowStride,
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
