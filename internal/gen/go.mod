module github.com/simdformer/simdformer/internal/gen

go 1.26.0

require golang.org/x/arch v0.33.0

require github.com/simdformer/simdformer v0.0.0-00010101000000-000000000000

replace github.com/simdformer/simdformer => ../..
