"""raftstore_fuzz_target: one fuzz target, two ways to run it.

Under --config=fuzz (clang, libFuzzer + ASan) the binary links libFuzzer's
main and explores inputs. In every other build it links replay_main.cc, which
runs the target over the files it is given; the `<name>_corpus_test` test runs
the seed corpus that way on every `bazel test //...`, so a regression input
added to the corpus is checked forever after, sanitizer or not.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def raftstore_fuzz_target(name, srcs, deps = [], corpus = []):
    cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )

    # Runs the fuzz target over its seed corpus (a directory argument is
    # expanded to its files by both drivers).
    cc_test(
        name = name + "_corpus_test",
        srcs = srcs,
        deps = deps + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = corpus,
        args = ["$(rootpaths %s)" % c for c in corpus],
    )
