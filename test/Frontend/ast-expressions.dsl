# RUN: resnetc %s --emit=ast | FileCheck %s --strict-whitespace
# The syntax tree of expressions, as --emit=ast prints it (node, @line:col):
# precedence from `|>` (loosest) through `? :`, or, and, not, comparisons,
# + -, * / %, unary minus, to calls and indexing (tightest); strings keep
# their escapes; a line that starts with `|>` continues the one above, and
# `|>` applies to the whole conditional before it.
# CHECK: {{^}}Model precedence @86:1{{$}}
# CHECK-NEXT: {{^}}  Input image @87:3{{$}}
# CHECK-NEXT: {{^}}    Number 1 @87:15{{$}}
# CHECK-NEXT: {{^}}    Number 8 @87:18{{$}}
# CHECK-NEXT: {{^}}    Number 8 @87:21{{$}}
# CHECK-NEXT: {{^}}  Classes @88:3{{$}}
# CHECK-NEXT: {{^}}    Number 10 @88:11{{$}}
# CHECK-NEXT: {{^}}  Assign a @89:3{{$}}
# CHECK-NEXT: {{^}}    Binary - @89:17{{$}}
# CHECK-NEXT: {{^}}      Binary + @89:9{{$}}
# CHECK-NEXT: {{^}}        Number 1 @89:7{{$}}
# CHECK-NEXT: {{^}}        Binary * @89:13{{$}}
# CHECK-NEXT: {{^}}          Number 2 @89:11{{$}}
# CHECK-NEXT: {{^}}          Number 3 @89:15{{$}}
# CHECK-NEXT: {{^}}      Binary / @89:25{{$}}
# CHECK-NEXT: {{^}}        Binary % @89:21{{$}}
# CHECK-NEXT: {{^}}          Number 7 @89:19{{$}}
# CHECK-NEXT: {{^}}          Number 4 @89:23{{$}}
# CHECK-NEXT: {{^}}        Number 2 @89:27{{$}}
# CHECK-NEXT: {{^}}  Assign b @90:3{{$}}
# CHECK-NEXT: {{^}}    Binary or @90:28{{$}}
# CHECK-NEXT: {{^}}      Binary and @90:18{{$}}
# CHECK-NEXT: {{^}}        Unary not @90:7{{$}}
# CHECK-NEXT: {{^}}          Binary == @90:13{{$}}
# CHECK-NEXT: {{^}}            Name a @90:11{{$}}
# CHECK-NEXT: {{^}}            Number 1 @90:16{{$}}
# CHECK-NEXT: {{^}}        Binary < @90:24{{$}}
# CHECK-NEXT: {{^}}          Name a @90:22{{$}}
# CHECK-NEXT: {{^}}          Number 2 @90:26{{$}}
# CHECK-NEXT: {{^}}      Bool false @90:31{{$}}
# CHECK-NEXT: {{^}}  Assign c @91:3{{$}}
# CHECK-NEXT: {{^}}    Binary + @91:13{{$}}
# CHECK-NEXT: {{^}}      Unary - @91:7{{$}}
# CHECK-NEXT: {{^}}        Index @91:9{{$}}
# CHECK-NEXT: {{^}}          Name a @91:8{{$}}
# CHECK-NEXT: {{^}}          Number 0 @91:10{{$}}
# CHECK-NEXT: {{^}}      Binary * @91:23{{$}}
# CHECK-NEXT: {{^}}        Binary + @91:18{{$}}
# CHECK-NEXT: {{^}}          Number 1 @91:16{{$}}
# CHECK-NEXT: {{^}}          Number 2 @91:20{{$}}
# CHECK-NEXT: {{^}}        Number 3 @91:25{{$}}
# CHECK-NEXT: {{^}}  Assign d @92:3{{$}}
# CHECK-NEXT: {{^}}    Ternary @92:13{{$}}
# CHECK-NEXT: {{^}}      Binary > @92:9{{$}}
# CHECK-NEXT: {{^}}        Name a @92:7{{$}}
# CHECK-NEXT: {{^}}        Number 1 @92:11{{$}}
# CHECK-NEXT: {{^}}      String "yes\n" @92:15{{$}}
# CHECK-NEXT: {{^}}      Ternary @92:27{{$}}
# CHECK-NEXT: {{^}}        Name b @92:25{{$}}
# CHECK-NEXT: {{^}}        Number 2.5 @92:29{{$}}
# CHECK-NEXT: {{^}}        List @92:35{{$}}
# CHECK-NEXT: {{^}}          Number 1 @92:36{{$}}
# CHECK-NEXT: {{^}}          String "x" @92:39{{$}}
# CHECK-NEXT: {{^}}          Bool true @92:44{{$}}
# CHECK-NEXT: {{^}}  Assign x @93:3{{$}}
# CHECK-NEXT: {{^}}    Pipe @94:19{{$}}
# CHECK-NEXT: {{^}}      Pipe @94:13{{$}}
# CHECK-NEXT: {{^}}        Pipe @93:13{{$}}
# CHECK-NEXT: {{^}}          Name image @93:7{{$}}
# CHECK-NEXT: {{^}}          Call conv @93:16{{$}}
# CHECK-NEXT: {{^}}            Number 4 @93:21{{$}}
# CHECK-NEXT: {{^}}            Number 3 @93:24{{$}}
# CHECK-NEXT: {{^}}        Name bn @94:16{{$}}
# CHECK-NEXT: {{^}}      Name relu @94:22{{$}}
# CHECK-NEXT: {{^}}  Assign y @95:3{{$}}
# CHECK-NEXT: {{^}}    Pipe @95:22{{$}}
# CHECK-NEXT: {{^}}      Ternary @95:14{{$}}
# CHECK-NEXT: {{^}}        Binary >= @95:9{{$}}
# CHECK-NEXT: {{^}}          Name a @95:7{{$}}
# CHECK-NEXT: {{^}}          Number 1 @95:12{{$}}
# CHECK-NEXT: {{^}}        Name x @95:16{{$}}
# CHECK-NEXT: {{^}}        Name x @95:20{{$}}
# CHECK-NEXT: {{^}}      Name relu @95:25{{$}}
# CHECK-NEXT: {{^}}  Return @96:3{{$}}
# CHECK-NEXT: {{^}}    Pipe @96:29{{$}}
# CHECK-NEXT: {{^}}      Call global_avg_pool @96:10{{$}}
# CHECK-NEXT: {{^}}        Name x @96:26{{$}}
# CHECK-NEXT: {{^}}      Call dense @96:32{{$}}
# CHECK-NEXT: {{^}}        Name classes @96:38{{$}}
model precedence {
  input image[1, 8, 8]
  classes 10
  a = 1 + 2 * 3 - 7 % 4 / 2
  b = not a == 1 and a < 2 or false
  c = -a[0] + (1 + 2) * 3
  d = a > 1 ? "yes\n" : b ? 2.5 : [1, "x", true]
  x = image |> conv(4, 3)
            |> bn |> relu
  y = a >= 1 ? x : x |> relu
  return global_avg_pool(x) |> dense(classes)
}
