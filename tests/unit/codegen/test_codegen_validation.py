"""Every class of spec problem, each at its file:line:col, all reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from anclax_fast.codegen import load_spec
from anclax_fast.errors import SpecError
from tests.unit.codegen.codegen_helpers import load, problems

HERE = Path(__file__).parent

# codegen_many_problems.yaml holds one instance of most mistakes; all are reported in one run, in order of
# position. The duration and cron texts after the first colon come from the Rust parsers and are
# checked by their own tests; here only their start is compared.
EXPECTED = [
    "2:11: invalid task name 'send-email': it must start with a letter and contain "
    "only letters, digits and underscores",
    "3:18: description of task 'send-email' must be a string, not an integer",
    "5:5: unknown key 'retrypolicy' in task 'SendEmail'; did you mean 'retryPolicy'?",
    "7:18: retryPolicy.interval of task 'SendEmail': invalid duration '1x'",
    "8:20: retryPolicy.maxAttempts of task 'SendEmail' must be -1 (unlimited) or at "
    "least 1 (total attempts, the first included), not 0",
    "9:14: timeout of task 'SendEmail': invalid duration '0s'",
    "10:24: unknown event 'onSuccess' in task 'SendEmail' (supported: onFailed)",
    "11:19: invalid label '' in labels of task 'SendEmail': labels are non-empty and "
    "contain no whitespace or commas (workers take them as --labels a,b)",
    "11:23: duplicate label 'gpu' in labels of task 'SendEmail'",
    "11:28: invalid label 'a b' in labels of task 'SendEmail': labels are non-empty "
    "and contain no whitespace or commas (workers take them as --labels a,b)",
    "12:15: priority of task 'SendEmail' must be between 0 and 2147483647, not -1",
    "13:11: duplicate task name 'SendEmail' (first defined at line 4)",
    "14:11: task 'send_email' would generate the method execute_send_email(), which "
    "task 'SendEmail' generates already; rename one of them",
    "15:11: task 'sendEmail_many' would generate the method run_send_email_many(), "
    "which task 'SendEmail' generates already; rename one of them",
    "16:11: task 'sendEmail' would generate the method execute_send_email(), which "
    "task 'SendEmail' generates already; rename one of them",
    "19:23: cronjob.cronExpression of task 'Cron': invalid cron expression '61 * * * *'",
    "20:20: unknown parameter 'days' in cronjob.parameters of task 'Cron' (parameters: n)",
    "28:21: required property 'missing' is not defined in the properties of parameters of task 'BadParams'",
    "28:30: 'a' is listed twice in parameters.required of task 'BadParams'",
    "30:19: unknown type 'strin' in parameters.properties.a of task 'BadParams' "
    "(known: string, integer, number, boolean, null, array, object)",
    "31:27: unknown JSON Schema keyword 'maxlength' in parameters.properties.b of "
    "task 'BadParams'; did you mean 'maxLength'?",
    "32:13: 'oneOf' in parameters.properties.c of task 'BadParams': unions are not "
    "supported; use one object with optional properties",
    "33:33: parameters.properties.d.items of task 'BadParams': tuple arrays (a list "
    "of item schemas) are not supported; use an object",
    "34:19: unresolvable $ref '#/components/schemas/Nope': no schema of that name in this file",
    "35:37: parameters.properties.f.enum[1] of task 'BadParams': 1 is not of the schema's type (string)",
    "36:37: parameters.properties.g.minimum of task 'BadParams' must be a number",
    "37:19: parameters.properties.h of task 'BadParams' allows several types "
    "(integer, string); unions are not supported, use one type",
    "39:9: properties 'userId' and 'user_id' of parameters of task 'BadParams' both "
    "become the Python attribute 'user_id'; rename one",
    "40:36: parameters.properties.i.default of task 'BadParams' is invalid: 5 is not a string",
    "41:36: parameters.properties.j.pattern of task 'BadParams': invalid regular expression '(?<=a)b'",
    "42:19: unsupported $ref 'other.yaml#/Foo': only '#/components/schemas/<Name>', "
    "'#/definitions/<Name>', '#/$defs/<Name>' or '#schemas/<Name>' in the same file are supported",
    "44:17: parameters of task 'NotObject' must be an object schema (type: object), not string",
    "45:5: task #10 must be a mapping, not an integer",
    "46:10: name of task #11 must be a string, not null",
    "47:5: task #12 is missing the required key 'name'",
    "48:1: unknown key 'unknown' in the spec (allowed: $defs, components, definitions, tasks)",
]


def test_all_problems_at_once_with_positions() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(HERE / "codegen_many_problems.yaml", source="many.yaml")
    found = [f"{p.line}:{p.col}: {p.message}" for p in caught.value.problems]
    assert len(found) == len(EXPECTED), "\n".join(found)
    for got, expected in zip(found, EXPECTED, strict=True):
        assert got.startswith(expected), f"{got!r} does not start with {expected!r}"
    assert all(p.file == "many.yaml" for p in caught.value.problems)
    assert str(caught.value).splitlines()[0] == f"many.yaml:{EXPECTED[0]}"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ["1:1: the spec is empty; it needs a 'tasks' list"]),
        ("tasks: {}\n", ["1:8: tasks must be a list, not a mapping"]),
        ("- a\n", ["1:1: the spec must be a mapping, not a list"]),
        (
            "tasks:\n  - name: A\n    retryPolicy: {interval: 1m}\n",
            ["3:18: retryPolicy of task 'A' is missing the required key 'maxAttempts'"],
        ),
        (
            "tasks:\n  - name: A\n    retryPolicy: {interval: 1m, maxAttempts: 1.0}\n",
            ["3:46: retryPolicy.maxAttempts of task 'A' must be an integer, not a number"],
        ),
        (
            "tasks:\n  - name: A\n    cronjob: {}\n",
            ["3:14: cronjob of task 'A' is missing the required key 'cronExpression'"],
        ),
        (
            "tasks:\n  - name: A\n    priority: 2147483648\n",
            ["3:15: priority of task 'A' must be between 0 and 2147483647, not 2147483648"],
        ),
        ("tasks:\n  - name: A\n    timeout: 10\n", ["3:14: timeout of task 'A' must be a string, not an integer"]),
        (
            "tasks:\n  - name: A\n    events: [onFailed, onFailed]\n",
            ["3:24: duplicate event 'onFailed' in events of task 'A'"],
        ),
    ],
)
def test_structure_problems(spec: str, expected: list[str]) -> None:
    assert problems(spec) == expected


def test_duration_problems_point_at_the_offending_character() -> None:
    found = problems(
        'tasks:\n  - name: A\n    timeout: "1h 5x"\n    retryPolicy: {interval: "1m,2m,3q", maxAttempts: 2}\n'
    )
    assert [problem.split(": ")[0] for problem in found] == ["3:17", "4:37"]
    assert found[1].startswith("4:37: retryPolicy.interval of task 'A': invalid duration '1m,2m,3q' at position 7")


def test_x_keys_at_the_top_hold_anchors() -> None:
    loaded = load(
        """
        x-retry: &retry {interval: 1m, maxAttempts: 3}
        tasks:
          - name: A
            retryPolicy: *retry
        """
    )
    retry = loaded.ir.tasks[0].retry
    assert retry is not None
    assert (retry.interval, retry.max_attempts) == ("1m", 3)


def test_generated_names_must_not_collide() -> None:
    assert problems(
        """
        tasks:
          - name: a_1b
          - name: a1b
        """
    ) == [
        "4:11: task 'a1b' would generate the class A1bParameters, which another task "
        "generates already; rename one of them"
    ]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            "{type: object, properties: {a: {anyOf: [{type: string}]}}}",
            "'anyOf' in parameters.properties.a of task 'A': unions are not supported",
        ),
        (
            "{type: object, properties: {a: {allOf: [{type: string}]}}}",
            "'allOf' in parameters.properties.a of task 'A': schema composition is not supported",
        ),
        (
            "{type: object, properties: {a: {not: {type: string}}}}",
            "'not' in parameters.properties.a of task 'A': negated schemas are not supported",
        ),
        (
            "{type: object, properties: {a: {type: array, prefixItems: []}}}",
            "'prefixItems' in parameters.properties.a of task 'A': tuple arrays are not supported",
        ),
        (
            "{type: object, properties: {a: {type: array, uniqueItems: true}}}",
            "parameters.properties.a.uniqueItems of task 'A': uniqueItems is not supported",
        ),
        (
            "{type: object, properties: {a: {type: integer, minLength: 1}}}",
            "'minLength' applies to string schemas, not to integer",
        ),
        (
            "{type: object, properties: {a: {type: integer, exclusiveMinimum: true}}}",
            "must be a number (the draft 2020-12 form",
        ),
        (
            "{type: object, properties: {a: {type: integer, multipleOf: 0}}}",
            "multipleOf of task 'A' must be greater than 0",
        ),
        (
            "{type: object, properties: {a: {type: string, minLength: -1}}}",
            "minLength of task 'A' must be an integer >= 0",
        ),
        (
            "{type: object, properties: {a: {type: string, format: date, maxLength: 3}}}",
            "length and pattern constraints apply to plain strings",
        ),
        ("{type: object, properties: {a: {type: object, additionalProperties: false}}}", "allows no properties at all"),
        (
            "{type: object, properties: {a: {type: object, properties: {b: {type: string}}, "
            "additionalProperties: {type: string}}}}",
            "a schema for additional properties is not supported next to 'properties'",
        ),
        (
            "{type: object, additionalProperties: {type: string}}",
            "a schema for the values of task parameters is not supported",
        ),
        (
            "{type: object, properties: {a: {enum: []}}}",
            "parameters.properties.a.enum of task 'A' must be a non-empty list",
        ),
        (
            "{type: object, properties: {a: {enum: [1.5]}}}",
            "enum values must be strings, integers or booleans, not a number",
        ),
        ("{type: object, properties: {a: {enum: [x, x]}}}", "duplicate enum value 'x'"),
        (
            "{type: object, properties: {a: {type: object, default: {}}}}",
            "defaults are supported for plain strings, numbers, booleans and enums only",
        ),
        (
            "{type: object, properties: {a: {type: integer, minimum: 3, default: 1}}}",
            "default of task 'A' is invalid: 1 is less than the minimum 3",
        ),
        (
            "{type: object, properties: {a: {$ref: '#/definitions/B', title: x, minimum: 1}}}",
            "only 'description' and 'nullable' may stand next to $ref",
        ),
        (
            "{type: object, properties: {a: 5}}",
            "parameters.properties.a of task 'A' must be a mapping (a JSON Schema), not an integer",
        ),
        (
            "{type: object, properties: {a: {type: [integer]}}, required: a}",
            "parameters.required of task 'A' must be a list of property names",
        ),
        (
            "{type: object, properties: {a: {$defs: {}}}}",
            "define shared schemas at the top level of the spec, under components.schemas",
        ),
        ("{$ref: '#/definitions/S'}", "parameters of task 'A' must describe an object (it refers to a non-object)"),
        (
            "{type: object, nullable: true}",
            "parameters of task 'A' must be an object schema (type: object), not object",
        ),
        ("{type: object, properties: {a: {type: string, description: 5}}}", "description of task 'A' must be a string"),
        (
            "{type: object, properties: {a: {minimum: 1, minLength: 1}}}",
            "has no 'type' and its keywords do not say which",
        ),
        ("{type: object, properties: null}", "properties of task 'A' must be a mapping of property names to schemas"),
        ("{type: null, properties: {a: {type: string}}}", "parameters.type of task 'A' must be a type name"),
        ("{type: object, properties: {a: {type: string, examples: 5}}}", "examples of task 'A' must be a list"),
        (
            "{type: object, properties: {a: {type: string, deprecated: 'no'}}}",
            "deprecated of task 'A' must be true or false",
        ),
        (
            "{type: object, additionalProperties: null, properties: {a: {type: string}}}",
            "additionalProperties of task 'A' must be true, false or a schema",
        ),
    ],
)
def test_parameter_schema_problems(schema: str, message: str) -> None:
    found = problems(
        f"definitions: {{B: {{type: string}}, S: {{type: string}}}}\ntasks:\n  - name: A\n    parameters: {schema}\n"
    )
    assert any(message in problem for problem in found), found


def test_recursive_refs_are_rejected() -> None:
    found = problems(
        """
        components:
          schemas:
            Node:
              type: object
              properties:
                children: {type: array, items: {$ref: '#/components/schemas/Node'}}
        tasks:
          - name: A
            parameters: {$ref: '#/components/schemas/Node'}
        """
    )
    assert found == [
        "7:47: recursive $ref '#/components/schemas/Node' is not supported (a schema that contains itself)"
    ]


def test_unused_shared_schemas_are_checked_too() -> None:
    assert problems(
        """
        definitions:
          Unused: {type: object, properties: {a: {type: nope}}}
        tasks:
          - name: A
        """
    ) == [
        "3:49: unknown type 'nope' in definitions.Unused.properties.a (known: string, "
        "integer, number, boolean, null, array, object)"
    ]


def test_unresolvable_ref_suggests_a_close_name() -> None:
    found = problems(
        """
        components: {schemas: {Address: {type: object, properties: {a: {type: string}}}}}
        tasks:
          - name: A
            parameters: {$ref: '#/components/schemas/Adress'}
        """
    )
    assert found == [
        "5:24: unresolvable $ref '#/components/schemas/Adress': no schema of that name "
        "in this file; did you mean 'Address'?"
    ]


CRON_TASK = """
tasks:
  - name: Report
    parameters:
      type: object
      required: [day, at, count]
      properties:
        day: {{type: string, format: date}}
        at: {{type: string, format: date-time}}
        count: {{type: integer, format: int32}}
        nested: {{type: object, properties: {{x: {{type: integer}}}}}}
    cronjob:
      cronExpression: "0 0 2 * * *"
      parameters: {parameters}
"""


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ("{day: '${fireDate}', at: '${fireTime}', count: 1}", []),
        (
            "{day: '${fireTime}', at: '${fireTime}', count: 1}",
            ["14:25: cronjob.parameters.day of task 'Report': Datetimes provided to dates should have zero time"],
        ),
        (
            "{day: '${fireDate}', at: '${fireDate}', count: 1}",
            ["14:44: cronjob.parameters.at of task 'Report': Input should have timezone info"],
        ),
        (
            "{day: 2024-05-01, at: '2024-05-01T00:00:00Z', count: 4294967296}",
            ["14:72: cronjob.parameters.count of task 'Report': Input should be less than or equal to 2147483647"],
        ),
        (
            "{day: '${fireDate}', at: '${fireTime}'}",
            [
                "14:19: cronjob.parameters of task 'Report' misses the required parameter 'count' (or leave out "
                "cronjob.parameters, and the application starts the schedule with run_report(...))"
            ],
        ),
        (
            "{day: '${fireDate}', at: '${fireTime}', count: 1, nested: {x: 1, y: 2}}",
            ["14:84: unknown parameter 'y' in cronjob.parameters.nested of task 'Report' (parameters: x)"],
        ),
        (
            "{day: '${fireDay}', at: '${fireTime}', count: 1}",
            [
                "14:25: unknown placeholder ${fireDay} in cronjob.parameters.day of task 'Report' "
                "(supported: ${fireTime} and ${fireDate})",
                "14:25: cronjob.parameters.day of task 'Report': Input should be a valid date or datetime",
            ],
        ),
    ],
)
def test_cron_parameters_validate_against_the_model(parameters: str, expected: list[str]) -> None:
    spec = CRON_TASK.format(parameters=parameters)
    if not expected:
        assert load(spec).notes == ()
        return
    found = problems(spec)
    assert len(found) == len(expected), found
    for got, start in zip(found, expected, strict=True):
        assert got.startswith(start), f"{got!r} does not start with {start!r}"


def test_app_started_cron_tasks_get_a_note_not_an_error() -> None:
    loaded = load(
        """
        tasks:
          - name: DailyReport
            parameters: {type: object, required: [date], properties: {date: {type: string, format: date}}}
            cronjob:
              cronExpression: "0 0 1 * * *"
          - name: Cleanup
            parameters: {type: object, properties: {days: {type: integer}}}
            cronjob: {cronExpression: "@daily"}
        """
    )
    assert [str(note) for note in loaded.notes] == [
        "t.yaml:5:5: note: DailyReport is a cron task whose required parameters (date) are not in "
        "cronjob.parameters; its schedule starts when the application calls run_daily_report(...)"
    ]
    report, cleanup = loaded.ir.tasks
    assert report.app_started
    assert not cleanup.app_started


def test_unknown_formats_get_a_note() -> None:
    loaded = load(
        "tasks:\n  - name: A\n    parameters: {type: object, properties: {a: {type: string, format: datetime}}}\n"
    )
    assert [str(note) for note in loaded.notes] == [
        "t.yaml:3:71: unknown format 'datetime' in parameters.properties.a of task 'A' "
        "is not validated (did you mean 'date-time'?)"
    ]


def test_the_tutorial_loads_verbatim() -> None:
    from tests.unit.codegen.codegen_helpers import SPECS

    loaded = load_spec(SPECS / "tutorial.yaml")
    assert [task.name for task in loaded.ir.tasks] == [
        "TaskName",
        "DailyCleanup",
        "ProcessPayment",
        "LongRunningTask",
        "SendEmail",
        "ProcessDailyReports",
        "ProcessOrder",
        "SendNotification",
        "deleteOpaqueKey",
    ]
    crons = {task.name: task.cron.expression for task in loaded.ir.tasks if task.cron}
    assert crons == {"TaskName": "0 */1 * * *", "DailyCleanup": "0 0 2 * * *", "ProcessDailyReports": "0 0 1 * * *"}
    assert len(loaded.notes) == 2


def test_tags_are_checked_at_their_position() -> None:
    found = problems(
        """\
        tasks:
          - name: Tagged
            tags: [billing, "", billing, "x\\u0000y"]
          - name: Typed
            tags: [5]
        """
    )
    assert found[0] == "3:21: invalid tag '' in tags of task 'Tagged': a tag is a non-empty string, got ''"
    assert found[1] == "3:25: duplicate tag 'billing' in tags of task 'Tagged'"
    assert found[2].startswith("3:34: invalid tag 'x\\x00y' in tags of task 'Tagged': a tag cannot contain a NUL")
    assert found[3] == "5:12: tags[0] of task 'Typed' must be a string, not an integer"


def test_tags_reach_the_task_definition() -> None:
    loaded = load(
        """\
        tasks:
          - name: Tagged
            tags: [b, a]
        """
    )
    assert loaded.ir.tasks[0].tags == ("a", "b")
