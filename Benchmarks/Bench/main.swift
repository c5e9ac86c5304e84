// Benchmark entry point; subcommands are added by the benchmark scripts' owners.
print("telebot-bench: no benchmarks yet")
