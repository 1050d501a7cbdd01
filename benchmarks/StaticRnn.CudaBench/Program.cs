using System;

namespace StaticRnn.CudaBench;

public static class Program
{
    private const string Usage = """
        StaticRnn.CudaBench: checks and times StaticRnn's CUDA back end (see README.md).

          check [--seed N] [--model a,b] [--block N] [--cache DIR]
              CPU PredictBatch vs PyTorch's float64 references (always), then, where a CUDA device is available:
              the GPU vs PyTorch, GPU Score vs CPU PredictBatch at odd batch sizes (outputs poisoned with NaN),
              ScoreAsync and the resident CudaBatch path, Dispose and re-creation from the kernel cache.
              Exit 0: all passed, or no CUDA device (GPU checks not run); 1: a check failed.
          bench [--repeats 20] [--warmup 3] [--batch 65536] [--seed N] [--model a,b] [--json PATH]
              MeasureResident (CUDA events) and Score from host memory (Stopwatch), median/min/max, rotating among
              3 input sets; a markdown table, and JSON at PATH. Exit 1 without a CUDA device.
        """;

    public static int Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }

        try
        {
            switch (options.Mode)
            {
                case "check":
                    return Check.Run(options);
                case "bench":
                    return Bench.Run(options);
                case "create-time":
                    return Check.CreateTimeChild(options);
                case "help" or "--help" or "-h":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
