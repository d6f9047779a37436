# PyTorch (CPU, 1 thread) on the row kernels of issue 3 at 128x512 and dropout at 1M elements:
# the side-by-side reference for `go test -bench` / `go run ./bench` numbers. Run with /usr/bin/python3.
import torch, time
torch.set_num_threads(1)
def bench(f, n=2000):
    for _ in range(50): f()
    best=[]
    for r in range(5):
        t=time.perf_counter()
        for _ in range(n): f()
        best.append((time.perf_counter()-t)/n)
    best.sort(); return best[2]
x=torch.randn(128,512)
y=torch.empty_like(x)
el=128*512
for name,f in [("copy",lambda: y.copy_(x)),("softmax",lambda: torch.softmax(x,-1)),("layernorm",lambda: torch.nn.functional.layer_norm(x,(512,))),
               ("gelu_erf",lambda: torch.nn.functional.gelu(x)),("gelu_tanh",lambda: torch.nn.functional.gelu(x,approximate='tanh')),
               ("dropout0.1",lambda: torch.nn.functional.dropout(x,0.1,True))]:
    t=bench(f)
    print(f"{name:12s} {t*1e6:8.2f} us  {8*el/t/1e9:7.2f} GB/s  {t/el*1e9:6.3f} ns/elem")
x=torch.randn(1<<20); 
t=bench(lambda: torch.nn.functional.dropout(x,0.1,True), n=50)
print(f"dropout 1M   {t*1e3:8.3f} ms  {t/(1<<20)*1e9:6.3f} ns/elem")
a=torch.randn(1024,1024); b=torch.randn(1024,1024)
t=bench(lambda: a@b, n=3); print(f"mm 1024^3 {2*1024**3/t/1e9:.1f} GFLOP/s")
