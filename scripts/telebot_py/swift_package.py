"""Reading a Swift package as text, for scripts/check-layers: its targets (name, kind, source directory, declared
dependencies) from Package.swift, and the modules each .swift file imports. No Swift toolchain needed."""
import os
import re

TARGET_KINDS = {
    'target': 'Sources',
    'executableTarget': 'Sources',
    'testTarget': 'Tests',
    'systemLibrary': 'Sources',
    'macro': 'Sources',
    'plugin': 'Plugins',
    'binaryTarget': None,
}
TARGET_CALL = re.compile(r'\.(' + '|'.join(TARGET_KINDS) + r')\s*\(')
IMPORT = re.compile(
    r'^\s*(?:@[A-Za-z_][A-Za-z0-9_]*(?:\([^)]*\))?\s+)*'
    r'(?:(?:public|package|internal|fileprivate|private)\s+)?'
    r'import\s+(?:(?:struct|class|enum|protocol|typealias|func|var|let|actor)\s+)?'
    r'([A-Za-z_][A-Za-z0-9_]*)')


class ConfigError(Exception):
    pass


def mask_comments(text):
    """The text with comments replaced by spaces (newlines kept), so offsets and line numbers still match.
    String literals are kept as they are (a URL's `//` is not a comment)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith('"""', i):
            j = text.find('"""', i + 3)
            i = n if j < 0 else j + 3
        elif text[i] == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == '\\' else 1
            i += 1
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = ' '
            i = j
        elif text.startswith('/*', i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith('/*', j):
                    depth, j = depth + 1, j + 2
                elif text.startswith('*/', j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            for k in range(i, j):
                if out[k] != '\n':
                    out[k] = ' '
            i = j
        else:
            i += 1
    return ''.join(out)


def closing(text, open_index):
    """Index of the bracket closing the one at open_index (text already has its comments masked)."""
    pairs = {'(': ')', '[': ']', '{': '}'}
    stack = []
    i, n = open_index, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            if text.startswith('"""', i):
                j = text.find('"""', i + 3)
                i = n if j < 0 else j + 3
                continue
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == '\\' else 1
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ')]}':
            if not stack or stack.pop() != c:
                raise ConfigError('Package.swift: unbalanced brackets near line %d' % line_of(text, i))
            if not stack:
                return i
        i += 1
    raise ConfigError('Package.swift: unbalanced brackets near line %d' % line_of(text, open_index))


def line_of(text, index):
    return text.count('\n', 0, index) + 1


def top_level_argument(call, label):
    """Offset of `label:` among the call's own arguments (not inside a nested call or array), or -1."""
    depth = 0
    i, n = 0, len(call)
    while i < n:
        c = call[i]
        if c == '"':
            i += 1
            while i < n and call[i] not in '"\n':
                i += 2 if call[i] == '\\' else 1
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        elif depth == 1 and call.startswith(label, i) and re.match(re.escape(label) + r'\s*:', call[i:]) \
                and not (call[i - 1].isalnum() or call[i - 1] == '_'):
            return i
        i += 1
    return -1


def parse_package(root):
    """[{name, kind, path, line, deps: [(name, is_product, line)]}] for every target in root/Package.swift."""
    manifest = os.path.join(root, 'Package.swift')
    try:
        with open(manifest, encoding='utf-8') as f:
            text = mask_comments(f.read())
    except OSError as e:
        raise ConfigError('cannot read %s: %s' % (manifest, e))
    targets = []
    covered_until = -1
    for m in TARGET_CALL.finditer(text):
        if m.start() < covered_until:
            continue  # a `.target(name:)` dependency inside another target's declaration
        open_index = m.end() - 1
        close_index = closing(text, open_index)
        covered_until = close_index
        call = text[open_index:close_index + 1]
        kind = m.group(1)
        at = top_level_argument(call, 'name')
        name_match = re.compile(r'name\s*:\s*"([^"]+)"').match(call, at) if at >= 0 else None
        if not name_match:
            raise ConfigError('Package.swift:%d: a .%s(...) without a literal name: this script cannot read it'
                              % (line_of(text, m.start()), kind))
        name = name_match.group(1)
        at = top_level_argument(call, 'path')
        path_match = re.compile(r'path\s*:\s*"([^"]*)"').match(call, at) if at >= 0 else None
        if path_match:
            path = path_match.group(1)
        elif TARGET_KINDS[kind]:
            path = os.path.join(TARGET_KINDS[kind], name)
        else:
            path = None
        deps = []
        at = top_level_argument(call, 'dependencies')
        if at >= 0:
            bracket = call.index('[', at)
            end = closing(call, bracket)
            deps = parse_dependencies(call, bracket, end, text, open_index)
        targets.append({'name': name, 'kind': kind, 'path': path, 'line': line_of(text, m.start()),
                        'deps': deps})
    if not targets:
        raise ConfigError('%s declares no targets that this script can read' % manifest)
    return targets


def parse_dependencies(call, start, end, text, call_offset):
    """[(name, is_product, line)] for the items of the dependencies array call[start..end]."""
    deps = []
    depth = 0
    i = start + 1
    while i < end:
        c = call[i]
        if c == '"':
            j = call.index('"', i + 1)
            if depth == 0:
                deps.append((call[i + 1:j], False, line_of(text, call_offset + i)))
            i = j + 1
            continue
        if depth == 0 and c == '.':
            m = re.compile(r'\.(product|target|byName)\s*\(\s*name\s*:\s*"([^"]+)"').match(call, i)
            if m:
                deps.append((m.group(2), m.group(1) == 'product', line_of(text, call_offset + i)))
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        i += 1
    return deps


def swift_imports(path):
    """[(line number, module)] for the file's import declarations (not inside comments or multi-line strings)."""
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    masked = mask_comments(text)
    result = []
    in_multiline = False
    for number, line in enumerate(masked.split('\n'), 1):
        if in_multiline:
            if line.count('"""') % 2 == 1:
                in_multiline = False
            continue
        if line.count('"""') % 2 == 1:
            in_multiline = True
            continue
        m = IMPORT.match(line)
        if m:
            result.append((number, m.group(1)))
    return result
