"""The known answer of the searchable-output tests' checkpoint: four lines in four scripts, each with
its box in Qwen2-VL's thousandths of the page as displayed."""

LINES = [
    ("Invoice No. 2026-17 Total 12.50", (100, 100, 700, 130)),
    ("안녕하세요 세계", (100, 200, 500, 230)),
    ("مرحبا بالعالم", (100, 300, 500, 330)),
    ("東京 こんにちは 你好", (100, 400, 600, 430)),
]
ANSWER = "\n".join(f"<|object_ref_start|>{text}<|object_ref_end|><|box_start|>({a},{b}),({c},{d})<|box_end|>"
                   for text, (a, b, c, d) in LINES)
