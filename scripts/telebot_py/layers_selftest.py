"""The self-test of scripts/check-layers: a tiny fake package with planted bad imports, which the checker must
refuse, and a clean one it must accept. Run through `scripts/check-layers --self-test`."""
import os
import shutil
import subprocess
import sys
import tempfile


def self_test(check, config_error, script):
    """`check(root)` is the checker's function, `config_error` the error it raises for a package it cannot judge, and
    `script` its path (each scenario also runs it, for the exit status)."""
    return _self_test(check, config_error, script)


SELF_TEST_PACKAGE = '''// swift-tools-version:6.0
import PackageDescription
// .target(name: "Commented", dependencies: ["App"]),
let package = Package(
    name: "fake",
    dependencies: [.package(url: "https://example.invalid/hummingbird", exact: "2.0.0")],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq"),
        .target(name: "PGClient", dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Billing", dependencies: [.target(name: "PGClient")]),
        .target(
            name: "Marketing",
            dependencies: [
                "PGClient", // "Billing" (a comment, not a dependency)
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "App",
            dependencies: ["Marketing", "Billing", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .executableTarget(name: "Bench", dependencies: ["Billing"], path: "Benchmarks/Bench"),
        .target(name: "TestSupport", dependencies: ["PGClient"], path: "Tests/TestSupport"),
        .testTarget(name: "BillingTests", dependencies: ["Billing", "TestSupport"]),
    ]
)
'''
SELF_TEST_SOURCES = {
    'Sources/PGClient/Pool.swift': 'import CLibPQ\nimport Logging\n#if canImport(Glibc)\nimport Glibc\n#endif\n',
    'Sources/Billing/X.swift': '// import App (a comment)\n@preconcurrency import Foundation\npublic import PGClient\n'
                               'let sql = """\nimport App\n"""\n',
    'Sources/Marketing/Clicks.swift': 'import Metrics\nimport struct PGClient.PGQuery\n/* import Hummingbird */\n',
    'Sources/App/Main.swift': 'import Hummingbird\nimport Marketing\n@_exported import Billing\n',
    'Benchmarks/Bench/Main.swift': 'import Billing\nimport ArgumentParser\n',
    'Tests/TestSupport/Fakes.swift': 'import Hummingbird\nimport PGClient\n',
    'Tests/BillingTests/XTests.swift': '@testable import Billing\nimport TestSupport\nimport PGClient\nimport Testing\n',
    'Sources/CLibPQ/module.modulemap': 'module CLibPQ [system] { header "shim.h" link "pq" export * }\n',
}


def _self_test(check, ConfigError, script):  # noqa: N803 (the checker's class name)
    failures = []

    def scenario(description, edits, expected, package=SELF_TEST_PACKAGE):
        """Build the fake package plus `edits`, check it, compare the problem lines' prefixes with `expected`."""
        directory = tempfile.mkdtemp(prefix='check-layers-')
        try:
            with open(os.path.join(directory, 'Package.swift'), 'w') as f:
                f.write(package)
            for relative, content in list(SELF_TEST_SOURCES.items()) + list(edits.items()):
                path = os.path.join(directory, relative)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'a') as f:
                    f.write(content)
            try:
                problems, _ = check(directory)
            except ConfigError as e:
                problems = ['error: %s' % e]
            got = sorted(problems)
            ok = len(got) == len(expected) and all(g.startswith(e) for g, e in zip(got, sorted(expected)))
            # The command line agrees: exit status 1 exactly when there are problems.
            status = subprocess.run([sys.executable, script, '--root', directory],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            if status != (1 if expected else 0):
                ok = False
                got.append('(exit status %d)' % status)
            print('  %-4s %s' % ('ok' if ok else 'FAIL', description))
            if not ok:
                failures.append(description)
                for line in expected:
                    print('         expected: %s' % line)
                for line in got:
                    print('         got:      %s' % line)
        finally:
            shutil.rmtree(directory)

    scenario('a clean package passes (Support does not exist and is not needed)', {}, [])
    scenario('Billing imports App', {'Sources/Billing/X.swift': 'import App\n'},
             ['Sources/Billing/X.swift:7: Billing imports App, which the layering does not allow'])
    scenario('Marketing imports Hummingbird', {'Sources/Marketing/Routes.swift': 'import Foundation\nimport Hummingbird\n'},
             ['Sources/Marketing/Routes.swift:2: Marketing imports Hummingbird, which the layering does not allow'])
    scenario('attributes and access levels are still imports',
             {'Sources/PGClient/A.swift': '@testable import Billing\n', 'Sources/PGClient/B.swift': 'public import Billing\n',
              'Sources/PGClient/C.swift': '  @_exported   import   HummingbirdCore\n',
              'Sources/PGClient/D.swift': 'internal import class Marketing.Thing\n'},
             ['Sources/PGClient/A.swift:1: PGClient imports Billing,', 'Sources/PGClient/B.swift:1: PGClient imports Billing,',
              'Sources/PGClient/C.swift:1: PGClient imports HummingbirdCore,',
              'Sources/PGClient/D.swift:1: PGClient imports Marketing,'])
    scenario('a test target may import what its module may, not more',
             {'Tests/BillingTests/YTests.swift': 'import Telegram\nimport Support\n'},
             ['Tests/BillingTests/YTests.swift:1: BillingTests imports Telegram,'])
    scenario('Bench may not import App; the test support module only PGClient and Support',
             {'Benchmarks/Bench/Other.swift': 'import App\n', 'Tests/TestSupport/More.swift': 'import Billing\n'},
             ['Benchmarks/Bench/Other.swift:1: Bench imports App,', 'Tests/TestSupport/More.swift:1: TestSupport imports Billing,'])
    scenario('a target dependency against the layering fails (quoted, .target and .product)', {},
             ['Package.swift:10: Billing depends on Marketing,', 'Package.swift:14: Marketing depends on Billing,',
              'Package.swift:15: Marketing depends on Prometheus,'],
             package=SELF_TEST_PACKAGE
             .replace('dependencies: [.target(name: "PGClient")]', 'dependencies: [.target(name: "Marketing")]')
             .replace('"PGClient", // "Billing"', '"PGClient", "Billing", //')
             .replace('.product(name: "Metrics", package: "swift-metrics")',
                      '.product(name: "Prometheus", package: "swift-prometheus")'))
    scenario('an unknown target is an error', {},
             ['error: Package.swift:11: target Mystery is not in the layering table'],
             package=SELF_TEST_PACKAGE.replace('name: "Marketing"', 'name: "Mystery"'))
    scenario('a new Support module at the bottom is fine, and may import nothing of ours',
             {'Sources/Support/S.swift': 'import Foundation\nimport PGClient\n', 'Sources/Billing/S.swift': 'import Support\n'},
             ['Sources/Support/S.swift:2: Support imports PGClient,'],
             package=SELF_TEST_PACKAGE.replace('        .target(name: "Billing"',
                                               '        .target(name: "Support"),\n        .target(name: "Billing"'))
    if failures:
        print('check-layers self-test FAILED (%d of 9 scenarios)' % len(failures))
        return 1
    print('check-layers self-test: ok (9 scenarios)')
    return 0
