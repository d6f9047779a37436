package nn

// MaterialiseAttention forces the materialising attention path (on) or
// restores the default choice (off) for the tests and benchmarks of package
// nn_test. Not safe to change while another goroutine attends.
func MaterialiseAttention(on bool) { attentionMaterialise = on }
