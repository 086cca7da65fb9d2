"""docvl from Python: the README's jobs on the files in examples/.

    python examples/api.py                          # born-digital jobs only: no model needed
    python examples/api.py --model Qwen/Qwen2-VL-2B-Instruct   # also the scan, with one loaded model

Run it from the repository's root.
"""

import argparse

import docvl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a Qwen2-VL checkpoint (hub id or folder) for the scanned page")
    parser.add_argument("--out", default="results", help="folder of the batch job (default: results)")
    args = parser.parse_args()

    # A born-digital report: text and tables from its text layer, no model.
    report = docvl.ocr("examples/report.pdf", text_layer="only")
    print(f"{report.path}: {report.status}, {len(report.pages)} pages, first line: {report.text.splitlines()[0]}")
    tables = docvl.extract_tables("examples/report.pdf", text_layer="only")
    print(f"{tables.path}: {len(tables.tables)} tables")
    for table, frame in zip(tables.tables, tables.dataframes()):
        print(f"  page {table['page']} table {table['index']}: {frame.shape[0]} rows x {frame.shape[1]} columns")

    # A batch job: documents as they finish, written into --out; run it again and it resumes. Without
    # a model, the folder's image fails alone (it has no text layer) and the batch goes on.
    model = {"model": args.model, "text_layer": "auto"} if args.model else {"text_layer": "only"}
    for doc in docvl.run("ocr", ["examples/batch"], out_dir=args.out, **model):
        print(f"{doc.path}: {'finished earlier' if doc.skipped else doc.status}")

    if args.model:
        # A scanned page needs the model: load it once, use it for several jobs.
        with docvl.Engine(args.model) as engine:
            text = docvl.ocr("examples/scan.png", engine=engine, lang="en")
            total = docvl.ground("examples/scan.png", "the total", engine=engine)
            fields = docvl.extract("examples/scan.png", fields=["date", "total"], engine=engine)
        print(f"scan: {len(text.text)} characters; {len(total.pages[0]['boxes'])} box(es); fields {fields.fields}")


if __name__ == "__main__":
    try:
        main()
    except docvl.errors.DocvlError as e:
        raise SystemExit(f"docvl: error: {e.message}")
