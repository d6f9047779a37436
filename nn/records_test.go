package nn_test

import (
	"math"
	"testing"

	"github.com/simdformer/simdformer/nn"
)

// TestRecordPoolGrowth: a pass recording many more operations of one type
// than a pool chunk holds keeps every record intact (records never move
// while the pool grows), on the first pass and on a warm one.
func TestRecordPoolGrowth(t *testing.T) {
	g := nn.NewGraph()
	x := nn.NewParam(3)
	copy(x.Data, []float32{1, 2, 3})
	for pass := range 2 {
		g.Reset()
		x.ZeroGrad()
		y := x
		for i := range 200 { // 200 scale records: several chunks
			y = g.Scale(y, float32(1+i%3)/float32(1+(i+1)%3))
		}
		g.BackwardWith(y, []float32{1, 1, 1})
		var want float64 = 1
		for i := range 200 {
			want *= float64(float32(1+i%3) / float32(1+(i+1)%3))
		}
		for i, v := range x.Grad {
			if math.Abs(float64(v)-want) > 1e-4*math.Abs(want) {
				t.Fatalf("pass %d: grad[%d] = %v, want %v", pass, i, v, want)
			}
		}
	}
}

// TestGraphAttentionOptions: Graph.Attention returns head-averaged weights
// unless PerHeadWeights, its Drop drops the probabilities, and the zero
// Drop gives the weights of the undropped softmax (rows sum to 1).
func TestGraphAttentionOptions(t *testing.T) {
	r := newRand(21)
	N, L, S, H, d := 2, 3, 4, 2, 4
	q, k, v := randTensor(r, 1, N, L, H*d), randTensor(r, 1, N, S, H*d), randTensor(r, 1, N, S, H*d)
	_, avg := nn.NewGraph().Attention(q, k, v, H, nn.AttentionOptions{NeedWeights: true}, nn.Drop{})
	_, per := nn.NewGraph().Attention(q, k, v, H, nn.AttentionOptions{NeedWeights: true, PerHeadWeights: true}, nn.Drop{})
	if len(avg.Shape) != 3 || len(per.Shape) != 4 || per.Shape[1] != H {
		t.Fatalf("weights shapes %v (averaged) and %v (per head)", avg.Shape, per.Shape)
	}
	for n := range N {
		for i := range L * S {
			m := (per.Data[(n*H)*L*S+i] + per.Data[(n*H+1)*L*S+i]) / 2
			if d := m - avg.Data[n*L*S+i]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("averaged weight %v, mean of heads %v", avg.Data[n*L*S+i], m)
			}
		}
	}
	for row := range N * L {
		var s float32
		for _, w := range avg.Data[row*S : (row+1)*S] {
			s += w
		}
		if s < 0.999 || s > 1.001 {
			t.Fatalf("row %d of the weights sums to %v", row, s)
		}
	}
	_, dropped := nn.NewGraph().Attention(q, k, v, H, nn.AttentionOptions{NeedWeights: true, PerHeadWeights: true}, nn.Drop{P: 0.5, Seed: 3})
	if countZeros(dropped.Data) == 0 || countZeros(per.Data) != 0 {
		t.Fatal("Drop{P: 0.5} dropped no probability (or the undropped weights have zeros)")
	}
}
