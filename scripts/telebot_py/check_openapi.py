"""scripts/check-openapi: validates openapi.yaml (argv[1]) with openapi-spec-validator (run with the venv's python,
which has it and PyYAML), then the project's stricter rules: operationId everywhere, X-Request-Id on every answer,
errors as application/problem+json."""
import sys


def main(argv):
    import yaml  # noqa: F401  (PyYAML: the validator reads YAML with it)
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    path = argv[1]
    spec, _ = read_from_filename(path)
    validate(spec)

    # Strictness beyond the specification: every operation has an operationId and documents its answers with the
    # X-Request-Id header, and every error answer is application/problem+json.
    problems = []
    components = spec.get("components", {}).get("responses", {})
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}:
                continue
            where = f"{method.upper()} {route}"
            if "operationId" not in operation:
                problems.append(f"{where}: no operationId")
            for status, response in operation.get("responses", {}).items():
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[-1]]
                if "X-Request-Id" not in response.get("headers", {}):
                    problems.append(f"{where} {status}: no X-Request-Id header")
                if str(status).startswith(("4", "5")) and set(response.get("content", {})) != {"application/problem+json"}:
                    problems.append(f"{where} {status}: error answer is not application/problem+json")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"openapi.yaml is valid OpenAPI {spec['openapi']} ({sum(1 for item in spec['paths'].values() for m in item if m != 'parameters')} operations)")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
