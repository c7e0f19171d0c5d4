# RUN: resnetc %s --emit=ast | FileCheck %s --strict-whitespace
# The syntax tree of statements: a block with a default, if / else if /
# else, for, repeat with and without a counter, two statements on one line
# (`;`), and the train block's settings, which stay unevaluated here.
# CHECK: {{^}}Model statements @98:1{{$}}
# CHECK-NEXT: {{^}}  Input image @99:3{{$}}
# CHECK-NEXT: {{^}}    Number 3 @99:15{{$}}
# CHECK-NEXT: {{^}}    Number 32 @99:18{{$}}
# CHECK-NEXT: {{^}}    Number 32 @99:22{{$}}
# CHECK-NEXT: {{^}}  Classes @100:3{{$}}
# CHECK-NEXT: {{^}}    Number 10 @100:11{{$}}
# CHECK-NEXT: {{^}}  Block unit @102:3{{$}}
# CHECK-NEXT: {{^}}    Param x @102:14{{$}}
# CHECK-NEXT: {{^}}    Param filters @102:17{{$}}
# CHECK-NEXT: {{^}}    Param stride = @102:26{{$}}
# CHECK-NEXT: {{^}}      Number 1 @102:35{{$}}
# CHECK-NEXT: {{^}}    If @103:5{{$}}
# CHECK-NEXT: {{^}}      Binary != @103:15{{$}}
# CHECK-NEXT: {{^}}        Name stride @103:8{{$}}
# CHECK-NEXT: {{^}}        Number 1 @103:18{{$}}
# CHECK-NEXT: {{^}}      Then @103:5{{$}}
# CHECK-NEXT: {{^}}        Assign x @104:7{{$}}
# CHECK-NEXT: {{^}}          Call conv @104:11{{$}}
# CHECK-NEXT: {{^}}            Name x @104:16{{$}}
# CHECK-NEXT: {{^}}            Name filters @104:19{{$}}
# CHECK-NEXT: {{^}}            Number 1 @104:28{{$}}
# CHECK-NEXT: {{^}}            Arg stride @104:31{{$}}
# CHECK-NEXT: {{^}}              Name stride @104:40{{$}}
# CHECK-NEXT: {{^}}      Else @103:5{{$}}
# CHECK-NEXT: {{^}}        If @105:12{{$}}
# CHECK-NEXT: {{^}}          Binary != @105:27{{$}}
# CHECK-NEXT: {{^}}            Call channels @105:15{{$}}
# CHECK-NEXT: {{^}}              Name x @105:24{{$}}
# CHECK-NEXT: {{^}}            Name filters @105:30{{$}}
# CHECK-NEXT: {{^}}          Then @105:12{{$}}
# CHECK-NEXT: {{^}}            Assign x @106:7{{$}}
# CHECK-NEXT: {{^}}              Call conv @106:11{{$}}
# CHECK-NEXT: {{^}}                Name x @106:16{{$}}
# CHECK-NEXT: {{^}}                Name filters @106:19{{$}}
# CHECK-NEXT: {{^}}                Number 1 @106:28{{$}}
# CHECK-NEXT: {{^}}          Else @105:12{{$}}
# CHECK-NEXT: {{^}}            Assign x @108:7{{$}}
# CHECK-NEXT: {{^}}              Call relu @108:11{{$}}
# CHECK-NEXT: {{^}}                Name x @108:16{{$}}
# CHECK-NEXT: {{^}}    Return @110:5{{$}}
# CHECK-NEXT: {{^}}      Name x @110:12{{$}}
# CHECK-NEXT: {{^}}  Assign x @113:3{{$}}
# CHECK-NEXT: {{^}}    Name image @113:7{{$}}
# CHECK-NEXT: {{^}}  Assign n @113:14{{$}}
# CHECK-NEXT: {{^}}    Number 2 @113:18{{$}}
# CHECK-NEXT: {{^}}  For f @114:3{{$}}
# CHECK-NEXT: {{^}}    List @114:12{{$}}
# CHECK-NEXT: {{^}}      Number 16 @114:13{{$}}
# CHECK-NEXT: {{^}}      Number 32 @114:17{{$}}
# CHECK-NEXT: {{^}}    Repeat as i @115:5{{$}}
# CHECK-NEXT: {{^}}      Name n @115:12{{$}}
# CHECK-NEXT: {{^}}      Assign x @116:7{{$}}
# CHECK-NEXT: {{^}}        Call unit @116:11{{$}}
# CHECK-NEXT: {{^}}          Name x @116:16{{$}}
# CHECK-NEXT: {{^}}          Name f @116:19{{$}}
# CHECK-NEXT: {{^}}          Arg stride @116:22{{$}}
# CHECK-NEXT: {{^}}            Ternary @116:38{{$}}
# CHECK-NEXT: {{^}}              Binary == @116:33{{$}}
# CHECK-NEXT: {{^}}                Name i @116:31{{$}}
# CHECK-NEXT: {{^}}                Number 0 @116:36{{$}}
# CHECK-NEXT: {{^}}              Number 2 @116:40{{$}}
# CHECK-NEXT: {{^}}              Number 1 @116:44{{$}}
# CHECK-NEXT: {{^}}    Repeat @118:5{{$}}
# CHECK-NEXT: {{^}}      Number 1 @118:12{{$}}
# CHECK-NEXT: {{^}}      Assign x @118:16{{$}}
# CHECK-NEXT: {{^}}        Call bn @118:20{{$}}
# CHECK-NEXT: {{^}}          Name x @118:23{{$}}
# CHECK-NEXT: {{^}}  Return @120:3{{$}}
# CHECK-NEXT: {{^}}    Pipe @120:29{{$}}
# CHECK-NEXT: {{^}}      Call global_avg_pool @120:10{{$}}
# CHECK-NEXT: {{^}}        Name x @120:26{{$}}
# CHECK-NEXT: {{^}}      Call dense @120:32{{$}}
# CHECK-NEXT: {{^}}        Name classes @120:38{{$}}
# CHECK-NEXT: {{^}}Train @123:1{{$}}
# CHECK-NEXT: {{^}}  Entry data @124:3{{$}}
# CHECK-NEXT: {{^}}    Name cifar10 @124:8{{$}}
# CHECK-NEXT: {{^}}    Entry augment @125:5{{$}}
# CHECK-NEXT: {{^}}      Call random_crop @125:13{{$}}
# CHECK-NEXT: {{^}}        Number 32 @125:25{{$}}
# CHECK-NEXT: {{^}}        Arg pad @125:29{{$}}
# CHECK-NEXT: {{^}}          Number 4 @125:35{{$}}
# CHECK-NEXT: {{^}}      Name flip_horizontal @125:39{{$}}
# CHECK-NEXT: {{^}}    Entry validation_split @126:5{{$}}
# CHECK-NEXT: {{^}}      Number 0.1 @126:22{{$}}
# CHECK-NEXT: {{^}}  Entry batch @128:3{{$}}
# CHECK-NEXT: {{^}}    Number 64 @128:9{{$}}
# CHECK-NEXT: {{^}}  Entry optimizer @129:3{{$}}
# CHECK-NEXT: {{^}}    Call sgd @129:13{{$}}
# CHECK-NEXT: {{^}}      Arg lr @129:17{{$}}
# CHECK-NEXT: {{^}}        Number 0.1 @129:22{{$}}
# CHECK-NEXT: {{^}}      Arg momentum @129:27{{$}}
# CHECK-NEXT: {{^}}        Number 0.9 @129:38{{$}}
model statements {
  input image[3, 32, 32]
  classes 10

  block unit(x, filters, stride = 1) {
    if stride != 1 {
      x = conv(x, filters, 1, stride = stride)
    } else if channels(x) != filters {
      x = conv(x, filters, 1)
    } else {
      x = relu(x)
    }
    return x
  }

  x = image; n = 2
  for f in [16, 32] {
    repeat n as i {
      x = unit(x, f, stride = i == 0 ? 2 : 1)
    }
    repeat 1 { x = bn(x) }
  }
  return global_avg_pool(x) |> dense(classes)
}

train {
  data cifar10 {
    augment random_crop(32, pad = 4), flip_horizontal
    validation_split 0.1
  }
  batch 64
  optimizer sgd(lr = 0.1, momentum = 0.9)
}
