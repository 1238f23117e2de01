"""The ``opskit`` command for trainers and course developers.

    opskit build [--check] [--force] [--no-backup]   learner copies + navigation (``--check``: verify only)
    opskit nav                                       regenerate navigation cells and the index table
    opskit check-env                                 the environment check (exit 1 on problems)
    opskit record [NAME ...]                         re-run solution notebooks in place, then rebuild
    opskit reset [NAME ...] [--learner-dir DIR]      reset a learner's notebooks (backs up their work first)
    opskit progress PATH ...                         run learners' notebooks headless, print a scoreboard
    opskit slides [--check]                          HTML slide decks from course/slides/NN-*.md
    opskit report [EXPORT ...] --out DIR [--footfall F] [--targets T] [--force]   HTML report + work lists

Exit codes: 0 success, 1 failure (message on stderr), 2 usage error. Paths default to the course folder found by
walking up from the working directory to a folder that contains ``course/solutions`` (or ``--root``).

Adding a subcommand is one decorated function::

    @command("reset", Text("重置学员副本", "reset a learner copy"), arg("name"))
    def _reset(args: argparse.Namespace) -> int:
        ...
        return 0
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from opskit.i18n import Text

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Command:
    name: str
    help: Text
    run: Callable[[argparse.Namespace], int]
    arguments: tuple[tuple[tuple[str, ...], dict[str, Any]], ...]
    needs_course: bool


COMMANDS: dict[str, Command] = {}


def arg(*flags: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """An ``add_argument`` call, written down for :func:`command`."""
    return flags, options


def command(name: str, help: Text, *arguments: tuple[tuple[str, ...], dict[str, Any]], needs_course: bool = True):
    """Register a subcommand: the decorated function takes the parsed args and returns an exit code."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = Command(name, help, run, tuple(arguments), needs_course)
        return run

    return register


class CommandError(Exception):
    """A failure to report on stderr with exit code 1 (no traceback)."""


def _say(message: object) -> None:
    print(message, flush=True)


def _course_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    from opskit.course import LEARNER_SUBDIR, SOLUTIONS_SUBDIR, find_course_root

    root = find_course_root(args.root)
    return root / SOLUTIONS_SUBDIR, root / LEARNER_SUBDIR


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@command(
    "build",
    Text("生成学员副本并更新导航", "build the learner copies and navigation"),
    arg("--check", action="store_true",
        help=str(Text("只检查 notebooks/ 是否最新,不写入;过期时退出码 1",
                      "only verify that notebooks/ is up to date; exit 1 if not"))),
    arg("--force", action="store_true",
        help=str(Text("与 --no-backup 一起使用:不备份直接覆盖学员修改", "with --no-backup: overwrite learner edits"))),
    arg("--no-backup", dest="backup", action="store_false",
        help=str(Text("不备份学员修改过的副本(此时除非 --force,否则拒绝覆盖)",
                      "do not back up edited learner copies (then refuse unless --force)"))),
)
def _build(args: argparse.Namespace) -> int:
    from opskit.course import build_learner_copies, check_learner_copies_in_sync

    solutions, learner = _course_paths(args)
    if args.check:
        problems = check_learner_copies_in_sync(solutions, learner)
        if problems:
            print(Text(f"notebooks/ 与解答不同步({len(problems)} 处):",
                       f"notebooks/ is out of sync with the solutions ({len(problems)}):"), file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_FAILURE
        _say(Text("学员副本与解答同步", "learner copies are in sync with the solutions"))
        return EXIT_OK
    _say(build_learner_copies(solutions, learner, force=args.force, backup=args.backup))
    return EXIT_OK


@command("nav", Text("重新生成导航单元格和课程目录表", "regenerate navigation cells and the index table"))
def _nav(args: argparse.Namespace) -> int:
    from opskit.course import update_navigation

    solutions, learner = _course_paths(args)
    written = update_navigation(solutions)
    if learner.is_dir():
        # the learner index comes from the build, never from here: it would carry no build stamp
        written += update_navigation(learner, create_index=False)
    for path in written:
        _say(f"  {Text('已更新', 'updated')}: {_relative(path)}")
    _say(Text(f"导航: 更新 {len(written)} 个笔记本", f"navigation: {len(written)} notebook(s) updated"))
    return EXIT_OK


@command("check-env", Text("检查运行环境(有问题时退出码 1)", "check the environment (exit 1 on problems)"),
         needs_course=False)
def _check_env(args: argparse.Namespace) -> int:
    from opskit.envcheck import check_environment, report

    rows = check_environment()
    report(rows)
    return EXIT_OK if all(row.ok for row in rows) else EXIT_FAILURE


@command(
    "record",
    Text("重新运行解答笔记本并保存输出,然后重新生成学员副本",
         "re-run solution notebooks in place to store their outputs, then rebuild the learner copies"),
    arg("names", nargs="*", metavar="NAME",
        help=str(Text("模块编号或文件名,如 02 或 02-rfm-tiering;默认全部", "module ids or names, e.g. 02 or "
                      "02-rfm-tiering; all when omitted"))),
    arg("--timeout", type=int, default=600, help=str(Text("每个单元格的秒数上限", "seconds allowed per cell"))),
)
def _record(args: argparse.Namespace) -> int:
    from opskit.course import build_learner_copies, record_solutions

    solutions, learner = _course_paths(args)
    if args.timeout <= 0:
        raise CommandError(Text("--timeout 必须为正数", "--timeout must be positive"))
    recorded = record_solutions(solutions, args.names or None, timeout=args.timeout, progress=_say)
    _say(Text(f"已记录 {len(recorded)} 个解答笔记本", f"recorded {len(recorded)} solution notebook(s)"))
    _say(build_learner_copies(solutions, learner))
    return EXIT_OK


@command(
    "reset",
    Text("把学员笔记本恢复到初始状态(先备份学员的修改)",
         "reset a learner's notebooks to the start (their work is backed up first)"),
    arg("names", nargs="*", metavar="NAME",
        help=str(Text("模块编号或文件名,如 02 或 02-rfm-tiering;默认全部课程笔记本",
                      "module ids or names, e.g. 02 or 02-rfm-tiering; every course notebook when omitted"))),
    arg("--learner-dir", type=Path, default=None,
        help=str(Text("学员笔记本文件夹;默认课程文件夹中的 notebooks/",
                      "the learner's notebook folder; default: notebooks/ in the course folder"))),
    arg("--backup-dir", type=Path, default=None,
        help=str(Text("备份位置;默认学员文件夹旁的 .opskit-backups/",
                      "where backups go; default: .opskit-backups/ next to the learner folder"))),
)
def _reset(args: argparse.Namespace) -> int:
    from opskit.trainer import reset_notebooks

    solutions, learner = _course_paths(args)
    report = reset_notebooks(args.names or None, args.learner_dir or learner, solutions, args.backup_dir)
    _say(report)
    return EXIT_OK


@command(
    "progress",
    Text("在后台运行学员笔记本并显示每道练习的结果", "run learners' notebooks headless and show each exercise's outcome"),
    arg("paths", nargs="+", metavar="PATH",
        help=str(Text("学员笔记本、学员文件夹,或每位学员一个子文件夹的班级文件夹",
                      "a learner notebook, a learner's folder, or a classroom folder with one sub-folder per "
                      "learner"))),
    arg("--timeout", type=int, default=300, help=str(Text("每个单元格的秒数上限", "seconds allowed per cell"))),
    arg("--csv", type=Path, default=None,
        help=str(Text("另存完整记分表为 CSV(UTF-8 带 BOM,Excel 可直接打开)",
                      "also save the full scoreboard as CSV (UTF-8 with BOM, opens in Excel)"))),
    needs_course=False,
)
def _progress(args: argparse.Namespace) -> int:
    from opskit.trainer import check_progress, progress_summary, render_scoreboard

    if args.timeout <= 0:
        raise CommandError(Text("--timeout 必须为正数", "--timeout must be positive"))
    runs: list = []

    def announce(learner: str, path: Path) -> None:
        print(Text(f"运行 {learner} · {path} …", f"running {learner} · {path} …"), file=sys.stderr, flush=True)

    board = check_progress(args.paths, timeout=args.timeout, on_notebook=announce, runs=runs)
    _say(render_scoreboard(board, runs))
    summary = progress_summary(board)
    if summary["learner"].nunique() > 1 or len(summary) > 1:
        _say("")
        _say(summary.to_string(index=False))
    if args.csv is not None:
        board.to_csv(args.csv, index=False, encoding="utf-8-sig")
        _say(Text(f"记分表已保存到 {args.csv}", f"scoreboard saved to {args.csv}"))
    failed = [run for run in runs if run.failure]
    for run in failed:
        print(Text(f"{run.path} 未能运行: {run.failure}", f"{run.path} could not run: {run.failure}"),
              file=sys.stderr)
    return EXIT_FAILURE if failed else EXIT_OK


@command(
    "slides",
    Text("由 course/slides/NN-*.md 生成幻灯片 HTML", "build the HTML slide decks from course/slides/NN-*.md"),
    arg("--check", action="store_true",
        help=str(Text("只检查 course/slides/html/ 是否最新,不写入;过期时退出码 1",
                      "only verify that course/slides/html/ is up to date; exit 1 if not"))),
)
def _slides(args: argparse.Namespace) -> int:
    from opskit.course import find_course_root
    from opskit.slides import SLIDES_SUBDIR, build_slides

    report = build_slides(find_course_root(args.root) / SLIDES_SUBDIR, check=args.check)
    if args.check and report.stale:
        print(Text(f"幻灯片 HTML 过期({len(report.stale)} 个);运行 `opskit slides`",
                   f"slide HTML is out of date ({len(report.stale)}); run `opskit slides`"), file=sys.stderr)
        for path in report.stale:
            print(f"  {_relative(path)}", file=sys.stderr)
        return EXIT_FAILURE
    _say(report)
    return EXIT_OK


@command(
    "report",
    Text("对门店自己的导出数据运行整套方法, 生成 HTML 报告和工作清单 (默认: 课程演示数据)",
         "run the whole method on a store's own exports: an HTML report and work lists (default: the demo data)"),
    arg("exports", nargs="*", metavar="EXPORT",
        help=str(Text("订单导出 (CSV 或 xlsx); 没有渠道列的文件写成 文件:渠道, 如 pos.csv:pos; 不给则用演示数据",
                      "order exports (CSV or xlsx); for a file without a channel column write FILE:CHANNEL, e.g. "
                      "pos.csv:pos; none: the demo data"))),
    arg("--out", type=Path, default=Path("opskit-report"),
        help=str(Text("输出文件夹 (默认 opskit-report); 已存在时需 --force", "output folder (default opskit-report); "
                      "an existing one needs --force"))),
    arg("--footfall", type=Path, default=None,
        help=str(Text("每日客流 CSV (date, store_id, visitors): 加上店铺罗盘", "daily footfall CSV (date, store_id, "
                      "visitors): adds the store compass"))),
    arg("--targets", type=Path, default=None,
        help=str(Text("月度目标 CSV (store_id, month, sales_target)", "monthly targets CSV (store_id, month, "
                      "sales_target)"))),
    arg("--as-of", default=None, help=str(Text("截止日 YYYY-MM-DD; 默认最后一笔会员销售日",
                                               "as-of date YYYY-MM-DD; default: the last member sale"))),
    arg("--force", action="store_true", help=str(Text("覆盖已存在文件夹中的报告文件",
                                                      "overwrite the report files in an existing folder"))),
    arg("--no-progress", dest="progress", action="store_false",
        help=str(Text("不显示进度条", "do not show the progress bar"))),
    needs_course=False,
)
def _report(args: argparse.Namespace) -> int:
    import pandas as pd

    from opskit.report import build_report

    if args.as_of is not None:
        try:
            pd.Timestamp(args.as_of)
        except ValueError:
            print(f"opskit report: {Text('--as-of 不是日期', '--as-of is not a date')}: {args.as_of!r}", file=sys.stderr)
            return EXIT_USAGE
    result = build_report(args.exports or None, out=args.out, footfall=args.footfall, targets=args.targets,
                          as_of=args.as_of, force=args.force, progress=args.progress)
    for note in result.notes:
        print(f"opskit report: {Text('注意', 'note')}: {note}", file=sys.stderr)
    for finding in result.analysis.findings:
        _say(f"- {finding}")
    _say(result)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="opskit",
        description=str(Text("opskit 客户运营管理训练工具包:课程工具", "opskit course tools for trainers")),
    )
    from opskit import __version__

    parser.add_argument("--version", action="version", version=f"opskit {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=None,
                        help=str(Text("课程文件夹(含 course/solutions);默认从当前目录向上查找",
                                      "course folder (containing course/solutions); default: search upwards from here")))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, spec in COMMANDS.items():
        sub = subparsers.add_parser(name, help=str(spec.help), description=str(spec.help),
                                    parents=[common] if spec.needs_course else [])
        for flags, options in spec.arguments:
            sub.add_argument(*flags, **options)
        sub.set_defaults(handler=spec.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``opskit`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, --version (0) or a usage error (2)
        code = exit_request.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    try:
        return int(args.handler(args))
    except (CommandError, ValueError, OSError, RuntimeError, ImportError) as error:
        print(f"opskit {args.command}: {Text('错误', 'error')}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(Text("已中断", "interrupted"), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
