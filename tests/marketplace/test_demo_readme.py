"""The README's commands work as written in a new shell: a ``flask`` command line is a ``make`` target or
``.venv/bin/flask`` (a bare ``flask`` is only on the PATH inside an activated virtual environment)."""
import re

from marketplace.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def code_block_lines() -> list[str]:
    lines = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", README, flags=re.S | re.M):
        lines += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return lines


def commands(line: str) -> list[str]:
    """The commands of a shell line (split at ``&&``, ``;`` and pipes), comments removed."""
    line = line.split(" # ")[0].split("  #")[0]
    return [part.strip() for part in re.split(r"&&|\|\||;|\|", line) if part.strip()]


def test_readme_has_code_blocks_with_flask_commands():
    assert any("flask" in line for line in code_block_lines())


def test_every_flask_command_is_make_or_the_virtualenv_flask():
    bad = []
    for line in code_block_lines():
        for command in commands(line):
            if re.search(r"(^|\s|/)flask(\s|$)", command) and not (
                    command.startswith("make ") or command.startswith(".venv/bin/flask --app wsgi ")):
                bad.append(command)
    assert bad == []


def test_every_make_target_in_the_readme_exists():
    targets = set(re.findall(r"^([a-z][\w-]*):", MAKEFILE, flags=re.M))
    used = {word for line in code_block_lines() for command in commands(line) if command.startswith("make ")
            for word in command.split()[1:] if not word.startswith("-") and "=" not in word}
    assert used and used <= targets, used - targets


def test_the_checker_catches_a_bare_flask_command():
    assert any(re.search(r"(^|\s|/)flask(\s|$)", c) for c in commands("flask --app wsgi db upgrade"))
    assert commands("make run  # serve") == ["make run"]
