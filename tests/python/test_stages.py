"""mtsrnn.stages: the one description of a kernel stage. Its derived shapes,
sizes and state agree with what the importers build and what the C loader
accepts, and ModelFileError messages use the C loader's detail when the
binding gives one."""

import mtsrnn
import numpy as np
import pytest
from mtsrnn import _core, mtsfile, mtsimage, stages
from test_hostile_files import BASE, LAYER_CASES, STRUCTURE_CASES, TENSOR_CASES
from test_model_file import ALL, config_of, make


@pytest.mark.parametrize("cell,name", ALL, ids=[f"{c}-{n}" for c, n in ALL])
@pytest.mark.parametrize("scheme", [None, "int8-wa"])
def test_derived_facts_match_the_kernels(cell, name, scheme):
    model = make(cell, config_of(cell, name), seed=3)
    if scheme:
        model = mtsrnn.quantize(model, scheme)
    assert model.num_layers == len(model.stages)
    for stage in model.stages:
        specs = stages.tensor_specs(stage.cell, stage.fields)
        assert set(stage.tensors) <= set(specs)
        assert {name for name, spec in specs.items() if spec.required} <= set(stage.tensors)
        for tensor, array in stage.tensors.items():
            assert array.shape == specs[tensor].shape, tensor
            assert (array.dtype == np.int8) == specs[tensor].int8, tensor
        assert stage.quantization == scheme
        assert stage.input_size == stage.fields["input_size"]
    assert model.stages[-1].output_size == model.output_size
    assert sum(stage.state_floats for stage in model.stages) == model.state_floats
    assert model.weight_bytes == sum(stage.weight_bytes for stage in model.stages)
    contents = mtsfile.read(mtsfile.to_bytes(model))
    assert contents.tensor_bytes == model.weight_bytes
    assert contents.parameter_count == sum(s.parameter_count for s in model.stages)
    assert [s.describe() for s in contents.stages] == [s.describe() for s in model.stages]


def test_records_round_trip_through_the_table():
    for kind in stages.STAGE_KINDS.values():
        fields = {name: index + 1 for index, name in enumerate(kind.fields)}
        for name in fields:
            if kind.record.format[1 + kind.record_fields.index(name)] == "f":
                fields[name] = 0.5
        record = kind.pack(fields)
        # sru/qrnn: the 1.x layer record; the others: 2.0 stage fields (issue 14)
        assert len(record) == (stages.LAYER_RECORD_SIZE if kind.recurrent
                               else stages.STAGE_FIELDS_SIZE)
        assert kind.unpack(record) == fields
        reserved = [value for key, value in kind.unpack(record, with_reserved=True).items()
                    if key.startswith("reserved")]
        assert len(reserved) == len(kind.reserved)
        assert not any(any(value) if isinstance(value, bytes) else value for value in reserved)


def test_tensor_kinds_and_scales():
    for kind in stages.STAGE_KINDS.values():
        codes = [tensor.code for tensor in kind.tensors]
        assert codes == list(range(1, len(codes) + 1))  # the file's kind codes
        for tensor in kind.tensors:
            assert kind.tensor(tensor.name) is kind.tensor(tensor.code) is tensor
            if tensor.scale:
                assert kind.tensor(tensor.scale).scale is None
    assert stages.SRU.scale_kinds == {"weight_scale", "weight_proj_scale"}
    assert stages.QRNN.scale_kinds == {"weight_scale"}
    with pytest.raises(ValueError, match="unknown stage kind"):
        stages.stage_kind("lstm")


def test_model_image_is_what_the_kernels_run():
    model = mtsrnn.random_qrnn(3, 4, window=2, seed=1)
    image = model.image
    assert image.readonly and bytes(image) == mtsfile.to_bytes(model)
    assert np.frombuffer(image, np.uint8).ctypes.data % 64 == 0
    for stage in model.stages:
        for array in stage.tensors.values():
            assert not array.flags.writeable and array.ctypes.data % 64 == 0
    with pytest.raises(TypeError):
        model.stages[0].fields["window"] = 3


def test_stages_of_several_kinds_make_a_2_0_image():
    """Issue 14: a stack of one cell stays 1.x; cells mixed make a 2.0 image whose
    records parse back into the same stages."""
    sru, qrnn = mtsrnn.random_sru(3, 3), mtsrnn.random_qrnn(3, 3)
    image, placed = mtsimage.stages_image([sru.stages[0], qrnn.stages[0]])
    version, parsed, _records = mtsfile.parse_image(image.tobytes())
    assert version == (2, 0)
    assert [s.describe() for s in parsed] == [s.describe() for s in placed]
    assert mtsfile.parse_image(mtsimage.stages_image(sru.stages)[0].tobytes())[0] == (1, 0)


# ---- messages ------------------------------------------------------------------------

def message(data):
    with pytest.raises(mtsrnn.ModelFileError) as error:
        mtsrnn.load(data)
    assert "\n" not in str(error.value)
    return error.value


def test_messages_name_the_layer_and_tensor():
    """The C loader's detail (mts_file_error) names where a file is wrong; the
    Python reader adds the configuration of the stage at fault."""
    missing = message(STRUCTURE_CASES["missing_weight"][0]).message
    assert "layer 0, kind 1 (weight), missing, shape (8, 1)" in missing
    assert "[layer 0: SRU input 3, hidden 2 x 1 direction(s), projection 1" in missing
    assert "layer 0, tensor record 3, kind 4 (bias), ndim, found 2, expected 1, shape (4,)" \
        in message(STRUCTURE_CASES["bias_as_a_column"][0]).message
    assert "(MTS_ERR_FILE_LAYER): layer 1, reserved, found 23" in message(
        LAYER_CASES["qrnn_reserved_byte_3"][0]).message
    assert "window 65" in message(LAYER_CASES["qrnn_window_65"][0]).message


def test_messages_use_the_loaders_detail():
    data = TENSOR_CASES["nbytes_off_by_4"][0]
    code = stages.STATUS_CODES["MTS_ERR_FILE_TENSOR"]
    error = message(data)
    assert error.status == "MTS_ERR_FILE_TENSOR" and error.code == code
    assert error.message.startswith(f"{_core.status_str(code)} (MTS_ERR_FILE_TENSOR): layer 0, "
                                    "tensor record 3, kind 4 (bias), nbytes, found 12, "
                                    "expected 16")
    with pytest.raises(_core.ModelFileError) as caught:
        _core.load_file(data)
    assert caught.value.detail == dict(cell=1, layer=0, tensor=3, kind=4, field="nbytes",
                                       found=12, expected=16, shape=None)
    no_layers = bytearray(BASE["sru"])
    no_layers[24:28] = bytes(4)  # the header's num_layers
    assert "(MTS_ERR_FILE_HEADER): num_layers, found 0" in message(bytes(no_layers)).message
