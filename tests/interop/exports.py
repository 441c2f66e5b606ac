"""Files the interop tests export: the sample project, our fixtures and third-party models
(assimp's test models, Debian's assimp-testmodels, set up by ./dev), each read here and written
back as GLB and glTF."""

from __future__ import annotations

from pathlib import Path

ASSIMP = Path("/usr/share/assimp/models")
# assimp's models that we import (with or without warnings); each is exported again
ASSIMP_MODELS = [
    "glTF2/BoxTexcoords-glTF/boxTexcoords.gltf", "glTF2/BoxTextured-glTF/BoxTextured.gltf",
    "glTF2/BoxTextured-glTF-Binary/BoxTextured.glb", "glTF2/BoxTextured-glTF-pbrSpecularGlossiness/BoxTextured.gltf",
    "glTF2/2CylinderEngine-glTF-Binary/2CylinderEngine.glb", "glTF2/ClearCoat-glTF/ClearCoatTest.gltf",
    "glTF2/textureTransform/TextureTransformTest.gltf", "glTF2/cameras/Cameras.gltf",
    "glTF2/simple_skin/simple_skin.gltf", "glTF2/glTF-Sample-Models/AnimatedMorphCube-glTF/AnimatedMorphCube.gltf",
    "glTF2/glTF-Asset-Generator/Mesh_PrimitiveMode/Mesh_PrimitiveMode_00.gltf",
    "glTF2/glTF-Asset-Generator/Mesh_PrimitiveMode/Mesh_PrimitiveMode_05.gltf",
    "glTF2/glTF-Asset-Generator/Mesh_PrimitiveMode/Mesh_PrimitiveMode_06.gltf",
    "glTF2/issue_3269/texcoord_crash.gltf", "glTF2/wrongTypes/badString.gltf",
    "OBJ/spider.obj", "OBJ/WusonOBJ.obj", "OBJ/regr01.obj", "OBJ/cube_with_vertexcolors.obj",
    "PLY/cube_uv.ply", "PLY/Wuson.ply", "STL/Spider_binary.stl", "OFF/Wuson.off", "3MF/box.3mf",
]
