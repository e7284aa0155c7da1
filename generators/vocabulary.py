"""Seeded vocabularies the event generator draws from: agents and models, languages with their commands and
errors, per-project file trees, search queries, branches, people, and text for large payloads.

Everything is built once per dataset from the word lists below and the spec's random streams. People
(names, emails, usernames) and repository name stems come from Faker (faker_pools.py), seeded from the spec's
FAKER_POOLS stream and called only here, never per row. Faker's lists change between releases, so the output
bytes depend on the Faker version too: it is part of the dataset fingerprint (DatasetSpec.fingerprint), and a
dataset loaded with another Faker release is seen as different and reloaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from generators.categories import AGENTS, TAGS, TOOLS
from generators.faker_pools import FakerPools, Person, build_faker_pools
from generators.shape import DatasetSpec, Stream


@dataclass(frozen=True)
class Language:
    name: str
    share: float  # of projects
    extensions: tuple[str, ...]  # repeated entries are more common
    source_roots: tuple[str, ...]
    test_file: str  # format string over {module} and {stem}
    config_files: tuple[str, ...]
    commands: tuple[str, ...]
    test_commands: tuple[str, ...]
    build_commands: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]  # (errorType, errorMessage)


# The tables below are data: one line per record reads better than the formatter's one line per item.
# fmt: off
# A late-2025 market mix; versions and models are plausible, not a survey.

LANGUAGES: tuple[Language, ...] = (
    Language(
        "typescript", 0.30, (".ts", ".ts", ".tsx"), ("src", "apps/web/src", "packages/core/src"),
        "src/{module}/__tests__/{stem}.test.ts",
        ("package.json", "tsconfig.json", "pnpm-lock.yaml", ".eslintrc.json", "vite.config.ts"),
        ("pnpm install", "pnpm lint --fix", "npx tsc --noEmit", "pnpm add zod", "npx prettier --check ."),
        ("pnpm test", "pnpm vitest run", "pnpm vitest run --coverage", "npx jest --runInBand"),
        ("pnpm build", "pnpm turbo run build", "npx tsc -b"),
        (("TypeError", "TypeError: Cannot read properties of undefined (reading 'id')"),
         ("TS2345", "TS2345: Argument of type 'string | undefined' is not assignable to parameter of type "
                    "'string'."),
         ("TS2307", "TS2307: Cannot find module '@/lib/db' or its corresponding type declarations."),
         ("ReferenceError", "ReferenceError: window is not defined")),
    ),
    Language(
        "python", 0.25, (".py",), ("src/app", "app", "services/api"),
        "tests/{module}/test_{stem}.py",
        ("pyproject.toml", "requirements.txt", "setup.cfg", "noxfile.py", ".python-version"),
        ("uv sync", "ruff check --fix .", "mypy src", "pip install -e '.[dev]'", "python -m app.cli --help"),
        ("pytest -q", "pytest -x tests/", 'pytest -k "not slow" -n 4', "python -m pytest --lf"),
        ("python -m build", "uv build", "docker build -t api:dev ."),
        (("ModuleNotFoundError", "ModuleNotFoundError: No module named 'requests'"),
         ("KeyError", "KeyError: 'user_id'"),
         ("AttributeError", "AttributeError: 'NoneType' object has no attribute 'session'"),
         ("AssertionError",
          "AssertionError: assert 404 == 200\n +  where 404 = <Response [404]>.status_code")),
    ),
    Language(
        "javascript", 0.10, (".js", ".jsx", ".mjs"), ("src", "lib", "server"),
        "test/{module}/{stem}.spec.js",
        ("package.json", "package-lock.json", ".babelrc", "webpack.config.js"),
        ("npm ci", "npm run lint", "node scripts/migrate.js", "npx eslint . --ext .js,.jsx"),
        ("npm test", "npx mocha --recursive", "npm run test:e2e"),
        ("npm run build", "npx webpack --mode production"),
        (("SyntaxError", "SyntaxError: Unexpected token '}' in JSON at position 42"),
         ("Error", "Error: ENOENT: no such file or directory, open 'config/local.json'"),
         ("UnhandledPromiseRejection", "UnhandledPromiseRejection: connect ECONNREFUSED 127.0.0.1:5432")),
    ),
    Language(
        "go", 0.10, (".go",), ("internal", "pkg", "cmd/server"),
        "internal/{module}/{stem}_test.go",
        ("go.mod", "go.sum", "Makefile", ".golangci.yml"),
        ("go mod tidy", "go vet ./...", "golangci-lint run", "go run ./cmd/server"),
        ("go test ./...", "go test -race ./internal/...", "go test -run TestHandler -v ./..."),
        ("go build ./...", "go build -o bin/server ./cmd/server"),
        (("panic", "panic: runtime error: invalid memory address or nil pointer dereference"),
         ("compile", "./handler.go:42:15: undefined: sessionStore"),
         ("test", "--- FAIL: TestCreateSession (0.01s)\n    handler_test.go:57: got 500, want 201")),
    ),
    Language(
        "rust", 0.07, (".rs",), ("src", "crates/core/src"),
        "tests/{module}_{stem}.rs",
        ("Cargo.toml", "Cargo.lock", "rust-toolchain.toml", "clippy.toml"),
        ("cargo check", "cargo clippy -- -D warnings", "cargo fmt --all",
         "cargo add serde --features derive"),
        ("cargo test", "cargo test --workspace", "cargo nextest run"),
        ("cargo build --release", "cargo build"),
        (("E0382", "error[E0382]: borrow of moved value: `config`"),
         ("E0308", "error[E0308]: mismatched types: expected `&str`, found `String`"),
         ("panic",
          "thread 'main' panicked at src/main.rs:27:5:\ncalled `Option::unwrap()` on a `None` value")),
    ),
    Language(
        "java", 0.08, (".java",), ("src/main/java/com/acme", "service/src/main/java/io/app"),
        "src/test/java/com/acme/{module}/{stem}Test.java",
        ("pom.xml", "build.gradle.kts", "settings.gradle.kts", "gradle.properties"),
        ("./gradlew dependencies", "mvn -q spotless:apply", "./gradlew clean"),
        ("./gradlew test", "mvn test", "mvn -Dtest=SessionServiceTest test"),
        ("./gradlew build", "mvn -DskipTests package"),
        (("NullPointerException",
          'java.lang.NullPointerException: Cannot invoke "String.length()" because "name" is null'),
         ("ClassNotFoundException", "java.lang.ClassNotFoundException: org.postgresql.Driver"),
         ("CompilationError", "error: cannot find symbol\n  symbol:   class SessionRepository")),
    ),
    Language(
        "ruby", 0.04, (".rb",), ("app/models", "app/controllers", "lib"),
        "spec/{module}/{stem}_spec.rb",
        ("Gemfile", "Gemfile.lock", ".rubocop.yml", "config/routes.rb"),
        ("bundle install", "bundle exec rubocop -a", "bin/rails db:migrate"),
        ("bundle exec rspec", "bin/rails test"),
        ("bundle exec rake assets:precompile",),
        (("NoMethodError", "NoMethodError: undefined method `email' for nil:NilClass"),
         ("ActiveRecord::RecordNotFound", "ActiveRecord::RecordNotFound: Couldn't find User with 'id'=42")),
    ),
    Language(
        "csharp", 0.06, (".cs",), ("src/Api", "src/Domain", "src/Infrastructure"),
        "tests/Api.Tests/{module}/{stem}Tests.cs",
        ("Api.sln", "Directory.Build.props", "global.json", "appsettings.json"),
        ("dotnet restore", "dotnet format", "dotnet ef migrations add AddSessions"),
        ("dotnet test", "dotnet test --filter Category=Unit"),
        ("dotnet build -c Release", "dotnet publish -c Release"),
        (("CS0246", "error CS0246: The type or namespace name 'ILogger' could not be found"),
         ("NullReferenceException",
          "System.NullReferenceException: Object reference not set to an instance of an object.")),
    ),
)

# Commands any project runs, whatever its language; the quotes and backslashes are deliberate.
COMMON_COMMANDS: tuple[str, ...] = (
    "git status", "git diff --stat", "git log --oneline -n 20", "git checkout -b fix/session-timeout",
    "git stash pop", "ls -la", "pwd", 'rg -n "TODO|FIXME" .', 'grep -rn "deprecated" src/',
    'find . -name "*.sql" -not -path "./node_modules/*"', "docker compose up -d db", "make lint",
    "cat .env.example", "sed -n '1,80p' README.md", 'echo "$DATABASE_URL"', 'psql -c "\\d agent_events"',
    "awk -F'\\t' '{print $2}' data/export.tsv | sort | uniq -c",
)
COMMON_CONFIG_FILES: tuple[str, ...] = (
    "README.md", ".gitignore", ".github/workflows/ci.yml", "Dockerfile", "docker-compose.yml", ".env.example",
    "docs/architecture.md", "CHANGELOG.md",
)
COMMON_ERRORS: tuple[tuple[str, str], ...] = (
    ("RateLimitError", "429 Too Many Requests: rate limit exceeded, retry after 20s"),
    ("ContextLengthExceeded", "prompt is too long: 212481 tokens > 200000 maximum"),
    ("CommandFailed", "Command failed with exit code 1"),
    ("Timeout", "Tool call timed out after 120000 ms"),
    ("PermissionDenied", "EACCES: permission denied, open '/usr/local/lib/node_modules'"),
    ("PatchFailed", 'apply_patch failed: hunk #2 did not match (expected "return null;")'),
    ("MergeConflict", "CONFLICT (content): Merge conflict in src\\config\\settings.json"),
)

MODULES: tuple[str, ...] = (
    "auth", "api", "billing", "users", "sessions", "db", "cache", "config", "handlers", "models", "services",
    "utils", "events", "search", "payments", "notifications", "admin", "reports", "storage", "queue", "jobs",
    "middleware", "routes", "components", "hooks", "store", "schema", "migrations", "analytics", "metrics",
    "logging", "email", "webhooks", "integrations", "projects", "teams", "permissions", "audit", "export",
    "import", "agents", "telemetry", "devlog", "ui", "layout", "forms", "validation", "i18n", "pricing",
    "checkout", "inventory", "orders", "files", "uploads", "sync", "realtime", "graph", "ml", "cli", "core",
)
SUBMODULES: tuple[str, ...] = (
    "internal", "v1", "v2", "adapters", "helpers", "types", "providers", "repositories", "dto", "__mocks__",
)
STEMS: tuple[str, ...] = (
    "index", "login", "logout", "session", "client", "server", "router", "handler", "service", "controller",
    "repository", "model", "schema", "types", "constants", "config", "middleware", "token", "refresh",
    "validator", "parser", "serializer", "mapper", "factory", "builder", "provider", "context", "store",
    "reducer", "actions", "selectors", "hooks", "form", "table", "modal", "button", "layout", "page", "list",
    "detail", "editor", "viewer", "upload", "download", "export", "import", "search", "filter", "pagination",
    "cache", "queue", "worker", "scheduler", "cron", "retry", "backoff", "rate_limit", "logger", "metrics",
    "tracing", "health", "errors", "exceptions", "events", "emitter", "subscriber", "publisher", "webhook",
    "email", "template", "render", "format", "dates", "money", "currency", "invoice", "subscription", "plan",
    "customer", "account", "profile", "settings", "permissions", "roles", "policy", "audit", "migration",
    "seed", "fixtures", "factories", "helpers", "utils", "main", "app", "api", "db", "connection", "pool",
)
# Words for identifiers, branch names, queries and large payload text.
WORDS: tuple[str, ...] = (
    "user", "session", "token", "request", "response", "event", "agent", "project", "file", "path", "query",
    "result", "error", "retry", "timeout", "cache", "entry", "value", "key", "index", "count", "limit",
    "offset", "page", "cursor", "batch", "chunk", "buffer", "stream", "reader", "writer", "payload", "data",
    "context", "config", "option", "setting", "flag", "feature", "state", "status", "message", "handler",
    "callback", "promise", "future", "task", "job", "worker", "queue", "channel", "signal", "lock", "mutex",
    "pool", "connection", "client", "server", "router", "route", "params", "body", "header", "cookie", "auth",
    "permission", "role", "policy", "scope", "tenant", "account", "profile", "email", "name", "title",
    "label", "description", "amount", "price", "currency", "invoice", "order", "item", "line", "total", "tax",
    "discount", "timestamp", "duration", "interval", "window", "metric", "trace", "span", "log", "level",
    "severity", "node", "tree", "graph", "edge", "parent", "child", "sibling", "root", "leaf", "depth",
    "width", "height", "schema", "table", "column", "row", "record", "field", "type", "kind", "mode",
    "format", "encoder", "decoder", "parser", "lexer", "ast", "visitor", "plugin", "hook", "middleware",
    "adapter", "proxy", "stub", "mock", "fixture", "snapshot", "diff", "patch", "commit", "branch", "merge",
    "rebase", "release",
)
VERBS: tuple[str, ...] = (
    "add", "fix", "update", "remove", "refactor", "rename", "extract", "inline", "validate", "handle",
    "parse", "load", "save", "fetch", "sync", "migrate", "cache", "retry", "debounce", "throttle", "paginate",
    "sort", "filter", "render", "format", "normalize", "serialize", "memoize", "split", "merge", "guard",
    "log",
)
# Repository names are a Faker stem (faker_pools.py) and one of these.
REPO_SUFFIXES: tuple[str, ...] = (
    "api", "web", "app", "platform", "service", "dashboard", "cli", "sdk", "monorepo", "backend", "frontend",
    "worker", "gateway", "portal", "engine", "infra", "docs", "mobile", "billing", "devlog",
)
# Repeated entries are proportionally more common.
SEARCH_SCOPES: tuple[str, ...] = ("workspace", "workspace", "workspace", "file", "symbols", "web")
SESSION_TRIGGERS: tuple[str, ...] = (
    "user_prompt", "user_prompt", "user_prompt", "ide_open", "scheduled", "ci",
)
SESSION_END_REASONS: tuple[str, ...] = (
    "completed", "completed", "completed", "user_cancelled", "timeout", "error",
)
FINISH_REASONS: tuple[str, ...] = ("tool_use", "tool_use", "stop", "stop", "stop", "length")
INTERACTION_TYPES: tuple[str, ...] = ("approve", "approve", "approve", "reject", "edit", "message", "cancel")
ROLLBACK_REASONS: tuple[str, ...] = (
    "tests failed after edit", "user rejected change", "build broke", "patch conflicted with local changes",
    "reverted to last green commit",
)
BUILD_TARGETS: tuple[str, ...] = ("debug", "release", "docker", "web", "server", "all")
EXTENSION_LANGUAGE: dict[str, str] = {
    ".ts": "typescript", ".tsx": "typescriptreact", ".py": "python", ".js": "javascript",
    ".jsx": "javascriptreact", ".mjs": "javascript", ".go": "go", ".rs": "rust", ".java": "java",
    ".rb": "ruby", ".cs": "csharp", ".json": "json", ".md": "markdown", ".yml": "yaml", ".yaml": "yaml",
    ".toml": "toml", ".kts": "kotlin", ".xml": "xml", ".sln": "xml", ".props": "xml", ".cfg": "ini",
    ".sum": "go.sum", ".mod": "go.mod", ".lock": "lockfile", ".txt": "plaintext",
}
# fmt: on
USER_COUNT = 240  # at most faker_pools.PEOPLE


def path_language(path: str) -> str:
    """The editor language id of a path, from its extension (Dockerfile and friends by name)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0:
        return {"Dockerfile": "dockerfile", "Makefile": "makefile", "Gemfile": "ruby"}.get(name, "plaintext")
    return EXTENSION_LANGUAGE.get(name[dot:], "plaintext")


@dataclass(frozen=True, eq=False)
class ProjectCatalog:
    """Per-project facts; project_id p (1-based) is row p - 1 everywhere."""

    language: np.ndarray  # int, index into LANGUAGES
    repo: tuple[str, ...]  # repository directory name
    team: np.ndarray  # int (projects, 4): indexes into TextPools.people of the people working on it
    # Path of popularity rank r in project p at [(p - 1) * files_per_project + r]: rank 0 is touched most.
    paths: np.ndarray  # object, str


def build_project_catalog(spec: DatasetSpec, repo_stems: Sequence[str]) -> ProjectCatalog:
    projects, files = spec.project_count, spec.files_per_project
    rng = spec.rng(Stream.PROJECT)
    shares = np.array([language.share for language in LANGUAGES])
    language = rng.choice(len(LANGUAGES), size=projects, p=shares / shares.sum())
    prefix = rng.integers(0, len(repo_stems), projects).tolist()
    suffix = rng.integers(0, len(REPO_SUFFIXES), projects).tolist()
    seen: dict[str, int] = {}
    repos = []
    for a, b in zip(prefix, suffix, strict=True):
        name = f"{repo_stems[a]}-{REPO_SUFFIXES[b]}"
        seen[name] = seen.get(name, 0) + 1
        repos.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    repo = tuple(repos)
    team = rng.integers(0, USER_COUNT, size=(projects, 4))
    paths = np.empty(projects * files, dtype=object)
    for p in range(projects):
        # A stream per project keeps a project's tree unchanged when the project count changes.
        tree_rng = spec.rng(Stream.PROJECT, p + 1)
        paths[p * files : (p + 1) * files] = build_file_tree(tree_rng, LANGUAGES[int(language[p])], files)
    return ProjectCatalog(language=language, repo=repo, team=team, paths=paths)


def build_file_tree(rng: np.random.Generator, language: Language, files: int) -> list[str]:
    """`files` distinct paths of one project, in a random popularity order."""
    module_count = min(len(MODULES), max(6, files // 15))
    modules = [MODULES[i] for i in rng.choice(len(MODULES), size=module_count, replace=False)]
    tree: dict[str, None] = dict.fromkeys(language.config_files + COMMON_CONFIG_FILES)
    attempts = 0
    while len(tree) < files:
        attempts += 1
        # Once the combinations run out, numbered stems keep larger trees possible.
        numbered = attempts > 50
        draw = rng.random((256, 6))
        for a, b, c, d, e, f in draw.tolist():
            module = modules[int(a * module_count)]
            stem = STEMS[int(b * len(STEMS))] + (str(int(f * 1000)) if numbered else "")
            if c < 0.18:
                path = language.test_file.format(module=module, stem=stem)
            else:
                root = language.source_roots[int(d * len(language.source_roots))]
                extension = language.extensions[int(e * len(language.extensions))]
                nested = f"{SUBMODULES[int(f * len(SUBMODULES))]}/" if f < 0.3 else ""
                path = f"{root}/{module}/{nested}{stem}{extension}"
            tree[path] = None
            if len(tree) >= files:
                break
    paths = list(tree)[:files]
    return [paths[i] for i in rng.permutation(len(paths))]


@dataclass(frozen=True, eq=False)
class TextPools:
    """Free-text values drawn per event; sized so values repeat, as they do in real logs."""

    people: tuple[Person, ...]
    users: tuple[str, ...]  # people's usernames, in the same order
    branches: tuple[str, ...]  # "main" first, the rest feature/fix branches
    search_queries: tuple[str, ...]
    commit_messages: tuple[str, ...]
    response_snippets: tuple[str, ...]  # assistant text of an llm_response, ~40 to ~400 characters
    code_lines: tuple[str, ...]  # diff and source lines that large payloads are assembled from


def build_text_pools(spec: DatasetSpec, people: Sequence[Person]) -> TextPools:
    rng = spec.rng(Stream.TEXT_POOLS)

    def pick(words: Sequence[str], n: int) -> list[str]:
        return [words[i] for i in rng.integers(0, len(words), n)]

    people = tuple(people[:USER_COUNT])
    users = tuple(person.username for person in people)
    branches = (
        "main",
        *tuple(
            f"{kind}/{module}-{verb}-{word}"
            for kind, module, verb, word in zip(
                pick(("feature", "feature", "fix", "chore", "agent", "refactor"), 300),
                pick(MODULES, 300),
                pick(VERBS, 300),
                pick(WORDS, 300),
                strict=True,
            )
        ),
    )
    query_templates = (
        "where is {stem} defined",
        "{module} {stem} handler",
        "how does {module} handle {word}",
        "TODO {module}",
        "FIXME {word}",
        "def \\w+_{stem}\\(",
        "import .* from '@/{module}/{stem}'",
        "{verb} {word} in {module}",
        "class {Stem}\\w*",
        '"{word}_{stem}"',
        "{stem}.{word}(",
        "why does {stem} return null",
        "{word} {word2} {module}",
    )
    search_queries = tuple(
        template.format(stem=stem, Stem=stem.title().replace("_", ""), module=module, word=word, word2=word2, verb=verb)
        for template, stem, module, word, word2, verb in zip(
            pick(query_templates, 500),
            pick(STEMS, 500),
            pick(MODULES, 500),
            pick(WORDS, 500),
            pick(WORDS, 500),
            pick(VERBS, 500),
            strict=True,
        )
    )
    subjects = [
        f"{kind}({module}): {verb} {word} {stem}"
        for kind, module, verb, word, stem in zip(
            pick(("feat", "fix", "refactor", "test", "chore", "docs", "perf"), 400),
            pick(MODULES, 400),
            pick(VERBS, 400),
            pick(WORDS, 400),
            pick(STEMS, 400),
            strict=True,
        )
    ]
    commit_messages = tuple(
        _commit_message(subject, kind, people[p], branches[b], n)
        for subject, kind, p, b, n in zip(
            subjects,
            rng.random(400).tolist(),
            rng.integers(0, len(people), 400).tolist(),
            rng.integers(1, len(branches), 400).tolist(),
            rng.integers(100, 5_000, 400).tolist(),
            strict=True,
        )
    )
    sentence_templates = (
        "I'll {verb} the {word} {stem} in `{module}/{stem}`.",
        "The {word} is read before the {word2} is checked, so the test fails.",
        "Running the tests again to confirm the {word} fix.",
        "Found it: `{stem}()` never awaits the {word2} promise.",
        "Let me look at how `{module}` builds the {word} first.",
        'Done. I changed the {word} handling and added a regression test for "{word2}".',
        "This needs a migration: the `{word}_{stem}` column is NOT NULL.",
        "Here is the plan:\n1. {Verb} {word}\n2. Update {stem} tests\n3. Run the build",
        "{name} asked in the review to keep the {word} check in `{module}`, so I left it there.",
        "@{user} this changes `{stem}()`, which your {module} code calls; please take a look.",
    )
    names = tuple(person.name for person in people)
    snippets = []
    for _ in range(800):
        sentences = int(rng.integers(1, 6))
        snippets.append(
            " ".join(
                template.format(
                    verb=verb, Verb=verb.title(), word=word, word2=word2, stem=stem, module=module, name=name, user=user
                )
                for template, verb, word, word2, stem, module, name, user in zip(
                    pick(sentence_templates, sentences),
                    pick(VERBS, sentences),
                    pick(WORDS, sentences),
                    pick(WORDS, sentences),
                    pick(STEMS, sentences),
                    pick(MODULES, sentences),
                    pick(names, sentences),
                    pick(users, sentences),
                    strict=True,
                )
            )
        )
    return TextPools(
        people=people,
        users=users,
        branches=branches,
        search_queries=search_queries,
        commit_messages=commit_messages,
        response_snippets=tuple(snippets),
        code_lines=_code_lines(rng, 4000),
    )


def _commit_message(subject: str, kind: float, person: Person, branch: str, number: int) -> str:
    """A commit message as repositories hold them: mostly a conventional subject, some with a co-author or
    sign-off trailer, some merge commits of pull requests and review suggestions."""
    if kind < 0.60:
        return subject
    if kind < 0.75:
        return f"{subject}\n\nCo-authored-by: {person.name} <{person.email}>"
    if kind < 0.80:
        return f"{subject}\n\nSigned-off-by: {person.name} <{person.email}>"
    if kind < 0.92:
        return f"Merge pull request #{number} from {person.username}/{branch}\n\n{subject}"
    return f"Apply suggestions from code review\n\nCo-authored-by: {person.name} <{person.email}>"


def _code_lines(rng: np.random.Generator, n: int) -> tuple[str, ...]:
    """Source and diff lines with many distinct identifiers and numbers, so large payloads compress poorly
    (like real diffs) and really reach TOAST."""
    templates = (
        "{m}const {a}{B} = await {c}{D}({e}, {n});",
        '{m}    if ({a}.{b} === undefined) throw new Error("{c} {d}: {n}");',
        "{m}def {a}_{b}({c}: {D}, {e}={n}):",
        "{m}        return self.{a}_{b}[{n}] or {c}_{d}",
        "{m}func ({a} *{B}) {C}{D}(ctx context.Context) error {{",
        "{m}\tlet {a}_{b}: Vec<{C}> = {d}.iter().map(|x| x.{e}).collect();",
        "{m}@@ -{n},7 +{n2},9 @@ class {B}{C}",
        "{m}    # {a} {b} {c} {d} before {e}",
        '{m}  "{a}{B}": {{ "{c}": {n}, "{d}": "{e}-{n2}" }},',
        "{m}SELECT {a}_{b}, count(*) FROM {c}_{d} WHERE {e} > {n} GROUP BY 1;",
    )
    lines = []
    for _ in range(n):
        template = templates[int(rng.integers(len(templates)))]
        a, b, c, d, e = (WORDS[i] for i in rng.integers(0, len(WORDS), 5))
        lines.append(
            template.format(
                m="+-  "[int(rng.integers(4))],
                a=a,
                b=b,
                c=c,
                d=d,
                e=e,
                B=b.title(),
                C=c.title(),
                D=d.title(),
                n=int(rng.integers(0, 100_000)),
                n2=int(rng.integers(0, 100_000)),
            )
        )
    return tuple(lines)


@dataclass(frozen=True, eq=False)
class Choices:
    """Values of several groups (e.g. one group per language) in one array, to pick from per row."""

    values: np.ndarray  # object
    start: np.ndarray  # first value of each group
    count: np.ndarray  # values in each group

    @staticmethod
    def of(groups: Sequence[Sequence[str]], as_json: bool = True) -> Choices:
        count = np.array([len(group) for group in groups])
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        flat = [value for group in groups for value in group]
        return Choices(json_array(flat) if as_json else np.array(flat, dtype=object), start, count)

    def pick(self, group: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One value per row, uniform within the row's group; u holds uniforms in [0, 1)."""
        return self.values[self.start[group] + (u * self.count[group]).astype(np.int64)]


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Every value the generator draws, built once per dataset and JSON-encoded once, not per row."""

    catalog: ProjectCatalog
    pools: TextPools
    path_json: np.ndarray  # catalog.paths as JSON strings
    path_language_json: np.ndarray  # editor language of each path, as JSON strings
    agent_names: np.ndarray
    agent_versions: Choices  # plain text, one group per agent, oldest first
    agent_models: tuple[tuple[np.ndarray, np.ndarray], ...]  # per agent: JSON model names and their CDF
    commands: Choices  # per language: its commands and the common ones
    test_commands: Choices
    build_commands: Choices
    error_types: Choices  # per language, aligned with error_messages
    error_messages: Choices
    tag_sets: np.ndarray  # object: the tuple of TAGS for each bit mask
    words: dict[str, np.ndarray]  # small JSON-encoded vocabularies by name
    # pools.code_lines JSON-escaped without quotes: a large payload is '"' + '\\n'.join(some) + '"'.
    code_lines_escaped: tuple[str, ...]


def build_vocabulary(spec: DatasetSpec) -> Vocabulary:
    faker_pools = build_dataset_faker_pools(spec)
    catalog = build_project_catalog(spec, faker_pools.repo_stems)
    pools = build_text_pools(spec, faker_pools.people)
    languages = {name: json.dumps(name) for name in {path_language(path) for path in catalog.paths}}
    errors = [language.errors + COMMON_ERRORS for language in LANGUAGES]
    tag_sets = np.empty(1 << len(TAGS), dtype=object)
    for mask in range(len(tag_sets)):
        tag_sets[mask] = tuple(tag for bit, tag in enumerate(TAGS) if mask >> bit & 1)
    return Vocabulary(
        catalog=catalog,
        pools=pools,
        path_json=json_array(catalog.paths.tolist()),
        path_language_json=np.array([languages[path_language(path)] for path in catalog.paths], dtype=object),
        agent_names=np.array([agent.name for agent in AGENTS], dtype=object),
        agent_versions=Choices.of([agent.versions for agent in AGENTS], as_json=False),
        agent_models=tuple(
            (json_array([model for model, _ in agent.models]), _cdf([share for _, share in agent.models]))
            for agent in AGENTS
        ),
        commands=Choices.of([language.commands + COMMON_COMMANDS for language in LANGUAGES]),
        test_commands=Choices.of([language.test_commands for language in LANGUAGES]),
        build_commands=Choices.of([language.build_commands for language in LANGUAGES]),
        error_types=Choices.of([[kind for kind, _ in group] for group in errors]),
        error_messages=Choices.of([[message for _, message in group] for group in errors]),
        tag_sets=tag_sets,
        words={
            "trigger": json_array(SESSION_TRIGGERS),
            "end_reason": json_array(SESSION_END_REASONS),
            "finish_reason": json_array(FINISH_REASONS),
            "interaction": json_array(INTERACTION_TYPES),
            "rollback_reason": json_array(ROLLBACK_REASONS),
            "scope": json_array(SEARCH_SCOPES),
            "target": json_array(BUILD_TARGETS),
            "tool": json_array(TOOLS),
            "query": json_array(pools.search_queries),
            "commit_message": json_array(pools.commit_messages),
            "snippet": json_array(pools.response_snippets),
        },
        code_lines_escaped=tuple(json.dumps(line, ensure_ascii=False)[1:-1] for line in pools.code_lines),
    )


def build_dataset_faker_pools(spec: DatasetSpec) -> FakerPools:
    """The Faker pools of a dataset, seeded from its FAKER_POOLS stream."""
    return build_faker_pools(int(spec.rng(Stream.FAKER_POOLS).integers(0, 2**63 - 1)))


def json_array(values: Sequence[str]) -> np.ndarray:
    return np.array([json.dumps(value, ensure_ascii=False) for value in values], dtype=object)


def _cdf(weights: Sequence[float]) -> np.ndarray:
    cumulative = np.cumsum(weights)
    return cumulative / cumulative[-1]
