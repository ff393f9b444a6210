"""Tiny VLMs with random weights, built offline (no hub): for tests and smoke runs.

One builder per architecture family that the installed transformers can load without
torchvision. Each writes a folder that ``AutoProcessor`` + ``AutoModelForImageTextToText``
load as they would a real checkpoint: a byte-level BPE tokenizer trained on the fly with the
family's special tokens, the family's PIL image processor with small explicit sizes, a
compact copy of the family's chat template (same role markers and image placeholders), and a
2-layer model of width 32. Each is a few hundred KB and builds in about a second.

Families whose processors need a video processor (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, SmolVLM2,
LLaVA-OneVision, InternVL) cannot be built without torchvision; see docs/hf_families.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}"
                 "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
                 "{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}")
# Idefics3 / SmolVLM: the checkpoints' own template.
IDEFICS3_TEMPLATE = ("<|im_start|>{% for m in messages %}{{ m['role'] | capitalize }}"
                     "{% if m['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
                     "{% for c in m['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}"
                     "{% elif c['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}"
                     "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")
# Gemma 3: bos, turns, the system prompt folded into the first user turn, <start_of_image>.
GEMMA3_TEMPLATE = ("{{ bos_token }}{% set sys = '' %}{% if messages[0]['role'] == 'system' %}"
                   "{% set sys = messages[0]['content'][0]['text'] + '\n\n' %}{% set messages = messages[1:] %}{% endif %}"
                   "{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
                   "{% if loop.first %}{{ sys }}{% endif %}{% for c in m['content'] %}"
                   "{% if c['type'] == 'image' %}<start_of_image>{% elif c['type'] == 'text' %}{{ c['text'] | trim }}"
                   "{% endif %}{% endfor %}<end_of_turn>\n{% endfor %}"
                   "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
# Llama 3.2 Vision: header ids, <|image|> before the text, eot ids.
MLLAMA_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
                   "{% for c in m['content'] %}{% if c['type'] == 'image' %}<|image|>{% else %}{{ c['text'] | trim }}"
                   "{% endif %}{% endfor %}<|eot_id|>{% endfor %}"
                   "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
CORPUS = ["What colour is the red mug? A. red B. blue C. green D. yellow",
          "Answer with the letter of the correct option only.", "Point to the can. x,y 0 250 500 750 1000",
          "Give the bounding box of the box: x1,y1,x2,y2", "Is the cone to the left or to the right?",
          "user assistant model system User: Assistant:"]
# Parameters that the families initialise to zero on the image path: Mllama's cross-attention
# gates (tanh(0) = 0) and Gemma 3's projection into the text model.
ZERO_INIT = ("cross_attn_attn_gate", "cross_attn_mlp_gate", "mm_input_projection_weight")
WIDTH: dict[str, Any] = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)


def _tokenizer(specials: list[str], **named: Any) -> Any:
    """A byte-level BPE tokenizer trained on CORPUS, with ``specials`` as single tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 10, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **named)


def _llama(tok: Any, **kw: Any) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=len(tok), num_key_value_heads=2, max_position_embeddings=2048,
                       pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                       eos_token_id=tok.eos_token_id, **WIDTH, **kw)


def _clip(**kw: Any) -> Any:
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(image_size=32, patch_size=8, projection_dim=32, **WIDTH, **kw)


def _llava() -> tuple[Any, Any]:
    from transformers import CLIPImageProcessor, LlavaConfig, LlavaProcessor

    tok = _tokenizer(["<pad>", "<s>", "</s>", "<image>"], bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    cfg = LlavaConfig(vision_config=_clip(), text_config=_llama(tok), vision_feature_layer=-1,
                      image_token_index=tok.convert_tokens_to_ids("<image>"), vision_feature_select_strategy="default")
    ip = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return cfg, LlavaProcessor(image_processor=ip, tokenizer=tok, chat_template=CHAT_TEMPLATE, patch_size=8,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1)


def _llava_next() -> tuple[Any, Any]:
    """LLaVA-NeXT (1.6): any-resolution tiles on a grid of pinpoints, plus a base image."""
    from transformers import LlavaNextConfig, LlavaNextImageProcessorPil, LlavaNextProcessor

    pins = [[32, 32], [32, 64], [64, 32], [64, 64]]
    tok = _tokenizer(["<pad>", "<s>", "</s>", "<image>"], bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    cfg = LlavaNextConfig(vision_config=_clip(), text_config=_llama(tok), image_grid_pinpoints=pins,
                          vision_feature_layer=-1, image_token_index=tok.convert_tokens_to_ids("<image>"),
                          vision_feature_select_strategy="default")
    ip = LlavaNextImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                                    image_grid_pinpoints=pins)
    return cfg, LlavaNextProcessor(image_processor=ip, tokenizer=tok, chat_template=CHAT_TEMPLATE, patch_size=8,
                                   vision_feature_select_strategy="default", num_additional_image_tokens=1)


def _idefics3() -> tuple[Any, Any]:
    """Idefics3 (the architecture of SmolVLM v1): image split into tiles plus a global view."""
    from transformers import (
        Idefics3Config,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
        Idefics3VisionConfig,
    )

    rows = [f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)]
    tok = _tokenizer(["<|endoftext|>", "<|im_start|>", "<end_of_utterance>", "<image>",
                      "<fake_token_around_image>", "<global-img>", *rows],
                     bos_token="<|im_start|>", eos_token="<end_of_utterance>", pad_token="<|endoftext|>")
    vision = Idefics3VisionConfig(image_size=32, patch_size=8, **WIDTH)
    cfg = Idefics3Config(vision_config=vision, text_config=_llama(tok), scale_factor=2,
                         image_token_id=tok.convert_tokens_to_ids("<image>"))
    ip = Idefics3ImageProcessorPil(size={"longest_edge": 64}, max_image_size={"longest_edge": 32})
    # image_seq_len = (32 / 8) ** 2 / scale_factor ** 2
    return cfg, Idefics3Processor(image_processor=ip, tokenizer=tok, image_seq_len=4, chat_template=IDEFICS3_TEMPLATE)


def _gemma3() -> tuple[Any, Any]:
    """Gemma 3: SigLIP tower, pooled to ``mm_tokens_per_image`` soft tokens per image."""
    from transformers import (
        Gemma3Config,
        Gemma3ImageProcessorPil,
        Gemma3Processor,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    marks = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"}
    tok = _tokenizer(["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", *marks.values()],
                     bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", extra_special_tokens=marks)
    ids = {k: tok.convert_tokens_to_ids(v) for k, v in marks.items()}
    text = Gemma3TextConfig(vocab_size=len(tok), num_key_value_heads=1, head_dim=16, sliding_window=64,
                            max_position_embeddings=2048, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                            eos_token_id=tok.eos_token_id, **WIDTH)
    cfg = Gemma3Config(text_config=text, vision_config=SiglipVisionConfig(image_size=32, patch_size=8, **WIDTH),
                       mm_tokens_per_image=4, image_token_index=ids["image_token"], boi_token_index=ids["boi_token"],
                       eoi_token_index=ids["eoi_token"])
    ip = Gemma3ImageProcessorPil(size={"height": 32, "width": 32})
    return cfg, Gemma3Processor(image_processor=ip, tokenizer=tok, image_seq_length=4, chat_template=GEMMA3_TEMPLATE)


def _mllama() -> tuple[Any, Any]:
    """Mllama (Llama 3.2 Vision): image tiles by aspect ratio, read through cross-attention layers."""
    from transformers import (
        MllamaConfig,
        MllamaImageProcessorPil,
        MllamaProcessor,
        MllamaTextConfig,
        MllamaVisionConfig,
    )

    tok = _tokenizer(["<|finetune_right_pad_id|>", "<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>",
                      "<|end_header_id|>", "<|image|>", "<|python_tag|>"], bos_token="<|begin_of_text|>",
                     eos_token="<|eot_id|>", pad_token="<|finetune_right_pad_id|>")
    ratios = [[1, 1], [1, 2], [2, 1]]
    vision = MllamaVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_global_layers=1,
                                attention_heads=2, vision_output_dim=64, image_size=32, patch_size=8, max_num_tiles=2,
                                intermediate_layers_indices=[0], supported_aspect_ratios=ratios)
    text = MllamaTextConfig(vocab_size=len(tok), num_key_value_heads=2, cross_attention_layers=[1],
                            max_position_embeddings=2048, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                            eos_token_id=tok.eos_token_id, **WIDTH)
    cfg = MllamaConfig(vision_config=vision, text_config=text, image_token_index=tok.convert_tokens_to_ids("<|image|>"))
    ip = MllamaImageProcessorPil(size={"height": 32, "width": 32}, max_image_tiles=2)
    return cfg, MllamaProcessor(image_processor=ip, tokenizer=tok, chat_template=MLLAMA_TEMPLATE)


FAMILIES: dict[str, Callable[[], tuple[Any, Any]]] = {
    "llava": _llava, "llava_next": _llava_next, "idefics3": _idefics3, "gemma3": _gemma3, "mllama": _mllama}


def build_tiny_vlm(family: str, out_dir: Path, seed: int = 0) -> Path:
    """Write a tiny random ``family`` VLM (model + processor) to ``out_dir``; same seed, same weights."""
    import torch
    from transformers import AutoModelForImageTextToText

    if family not in FAMILIES:
        raise ValueError(f"unknown tiny VLM family {family!r}; choose from {', '.join(FAMILIES)}")
    cfg, proc = FAMILIES[family]()
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(cfg)
    with torch.no_grad():  # open what starts closed, or the image cannot change any answer
        for name, p in model.named_parameters():
            if name.endswith(ZERO_INIT) and not p.any():
                p.normal_(0.0, 1.0)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    proc.save_pretrained(out_dir)
    return out_dir


def build_tiny_llava(out_dir: Path, seed: int = 0) -> Path:
    """Write a tiny random LLaVA (model + processor) to ``out_dir``; same seed, same weights."""
    return build_tiny_vlm("llava", out_dir, seed)
