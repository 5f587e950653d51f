# vision_ops_tf.node: the TensorFlow op library of tfjs-vision-ops for tfjs-node
# (kernels/c/*.c compiled natively + vision_call.cc, which registers one op per
# export). Built by tools/build-native.mjs, which runs node-gyp on a copy of this
# file in .build/native/gyp/, next to what it prepares there:
#   src/native -> kernels/tensorflow/native (vision_call.cc, generated/exports.inc)
#   src/c      -> kernels/c (the C sources, vision_ops.h and the family headers)
#   c_sources.txt  the C files to compile (src/c/*.c), one a line
#   tf_deps.txt    the absolute path of node_modules/@tensorflow/tfjs-node/deps
#                  (include/: the TensorFlow C API; lib/: its shared libraries)
# (gyp's make generator needs the sources below the .gyp file, as relative paths.)
{
  'variables': {
    'tf_deps': '<!(cat tf_deps.txt)',
  },
  'targets': [{
    'target_name': 'vision_ops_tf',
    'sources': [
      'src/native/vision_call.cc',
      '<!@(cat c_sources.txt)',
    ],
    'include_dirs': ['src/c', 'src/native'],
    'defines': ['NAPI_VERSION=8'],
    # The TensorFlow headers as system headers: -Werror covers our code only.
    'cflags': ['-isystem', '<(tf_deps)/include', '-fPIC', '-O2', '-ffp-contract=off',
               '-Wall', '-Wextra', '-Wunused-parameter', '-Werror', '-pthread'],
    'cflags_c': ['-std=c11'],
    'cflags_cc': ['-std=c++17'],
    'cflags!': ['-O3'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20', '-std=c++20'],
    'conditions': [
      ['OS=="linux"', {
        'libraries': [
          '-L<(tf_deps)/lib',
          '-l:libtensorflow_framework.so.2',
          '-l:libtensorflow_cc.so.2',
          '-Wl,-rpath,<(tf_deps)/lib',
          '-pthread',
        ],
      }],
    ],
  }],
}
