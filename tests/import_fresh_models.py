"""Models written the way people write them (ModuleList loops, `out += identity`, F. calls, x.view, chunk,
channel shuffle by view/transpose, permute + Linear, GroupNorm, PixelShuffle, PReLU), none made by cnncalc:
the import tests read them through both front-ends and hold the figures to FlopCounterMode/2 and Σ numel."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class VGG(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = [16, 'M', 32, 32, 'M', 64]
        self.features = nn.ModuleList()
        c = 3
        for v in cfg:
            if v == 'M':
                self.features.append(nn.MaxPool2d(2, 2))
            else:
                self.features.append(nn.Conv2d(c, v, 3, padding=1)); self.features.append(nn.ReLU(inplace=True)); c = v
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(64 * 4, 128), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(128, 10))
    def forward(self, x):
        for f in self.features:
            x = f(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)

class BasicBlock(nn.Module):
    expansion = 1
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out
class ResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(16); self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make(16, 2, 1)
        self.layer2 = self._make(32, 2, 2)
        self.layer3 = self._make(64, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
    def _make(self, planes, n, stride):
        ds = None
        if stride != 1 or self.inplanes != planes:
            ds = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, ds)]
        self.inplanes = planes
        for _ in range(1, n):
            layers.append(BasicBlock(planes, planes))
        return nn.Sequential(*layers)
    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)

class SE(nn.Module):
    """Squeeze-and-excitation with x.mean((2, 3), keepdim=True) and a sigmoid multiply."""
    def __init__(self, c, r=4):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1); self.fc2 = nn.Conv2d(c // r, c, 1)
    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = F.relu(self.fc1(s))
        s = torch.sigmoid(self.fc2(s))
        return x * s
class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand, se=False, act=nn.ReLU6):
        super().__init__()
        hid = inp * expand
        self.use_res = stride == 1 and inp == oup
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(inp, hid, 1, bias=False), nn.BatchNorm2d(hid), act(inplace=True)]
        layers += [nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid), act(inplace=True)]
        if se:
            layers.append(SE(hid))
        layers += [nn.Conv2d(hid, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
    def forward(self, x):
        if self.use_res:
            return x + self.conv(x)
        return self.conv(x)
class MobileNet(nn.Module):
    def __init__(self, num_classes=100, width=1.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True)),
            InvertedResidual(16, 16, 1, 1),
            InvertedResidual(16, 24, 2, 6),
            InvertedResidual(24, 24, 1, 6),
            InvertedResidual(24, 40, 2, 4, se=True, act=nn.Hardswish),
            InvertedResidual(40, 40, 1, 4, se=True, act=nn.Hardswish),
            nn.Conv2d(40, 160, 1, bias=False), nn.BatchNorm2d(160), nn.Hardswish(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(160, num_classes))
    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).reshape(x.shape[0], -1)
        return self.classifier(x)
def mobilenet(num_classes=10):
    return MobileNet(num_classes=num_classes)

def block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                         nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))
class UNet(nn.Module):
    def __init__(self, n_classes=2):
        super().__init__()
        self.inc = block(3, 16); self.d1 = block(16, 32); self.d2 = block(32, 64)
        self.u1 = block(64 + 32, 32); self.u2 = block(32 + 16, 16)
        self.drop = nn.Dropout2d(0.1)
        self.outc = nn.Conv2d(16, n_classes, 1)
    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.d1(F.max_pool2d(x1, 2))
        x3 = self.drop(self.d2(F.max_pool2d(x2, kernel_size=2, stride=2)))
        y = F.interpolate(x3, scale_factor=2, mode='bilinear', align_corners=False)
        y = self.u1(torch.cat([x2, y], dim=1))
        y = F.interpolate(y, scale_factor=2, mode='nearest')
        y = self.u2(torch.cat((y, x1), 1))
        return self.outc(y)

class AudioNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 16, 80, stride=4); self.bn1 = nn.BatchNorm1d(16); self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(16, 32, 3, padding=1); self.bn2 = nn.BatchNorm1d(32); self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(32, 32, 3, padding=1, dilation=1)
        self.fc = nn.Sequential(nn.Linear(32, 160), nn.ReLU(), nn.Linear(160, 12))   # 5,120 weights: past SMALL
    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = F.avg_pool1d(F.relu(self.conv3(x)), x.shape[-1])
        x = x.permute(0, 2, 1)
        x = self.fc(x)
        return F.softmax(x, dim=1)

class C3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv3d(3, 16, 3, padding=1); self.b1 = nn.BatchNorm3d(16)
        self.p1 = nn.MaxPool3d((1, 2, 2))
        self.c2 = nn.Conv3d(16, 32, (3, 3, 3), stride=(1, 2, 2), padding=(1, 1, 1))
        self.p2 = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(32, 5)
    def forward(self, x):
        x = self.p1(F.relu(self.b1(self.c1(x))))
        x = F.avg_pool3d(F.relu(self.c2(x)), 2)
        x = self.p2(x).flatten(1)
        return self.fc(x)

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 32, 3, padding=1)
        self.gn = nn.GroupNorm(4, 32)
        self.act = nn.PReLU()
        self.up = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)
        self.act2 = nn.PReLU(16)
        self.c2 = nn.Conv2d(16, 12, 3, padding=1)
        self.ps = nn.PixelShuffle(2)
        self.lrelu = nn.LeakyReLU(0.2)
    def forward(self, x):
        x = self.act(self.gn(self.c(x)))
        x = self.act2(self.up(x))
        x = F.pad(x, (1, 1, 1, 1))
        x = self.lrelu(self.c2(x))
        return torch.tanh(self.ps(x))

def channel_shuffle(x, groups):
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)
class Unit(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.branch2 = nn.Sequential(nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(inplace=True),
                                     nn.Conv2d(h, h, 3, 1, 1, groups=h, bias=False), nn.BatchNorm2d(h),
                                     nn.Conv2d(h, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(inplace=True))
    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        out = torch.cat((x1, self.branch2(x2)), dim=1)
        return channel_shuffle(out, 2)
class ShuffleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stage = nn.Sequential(Unit(24), Unit(24), Unit(24))
        self.conv5 = nn.Conv2d(24, 64, 1)
        self.fc = nn.Linear(64, 10)
    def forward(self, x):
        x = self.stage(self.maxpool(self.conv1(x)))
        x = self.conv5(x)
        x = x.mean([2, 3])
        return self.fc(x)

class Inception(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 16, 1)
        self.b2 = nn.Sequential(nn.Conv2d(cin, 8, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, 8, 1))
    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)
class InceptionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.inc = Inception(32)
        self.norm = nn.LocalResponseNorm(5)
        self.fc = nn.Linear(48, 10)
    def forward(self, x):
        x = F.relu(self.stem(x))
        a, b, c = torch.split(x, [8, 8, 16], dim=1)
        x = torch.cat([c, a + b, b * torch.sigmoid(a)], dim=1)
        x = self.norm(self.inc(x))
        x = F.adaptive_max_pool2d(x, 1)
        x = torch.flatten(x, start_dim=1)
        x = F.dropout(x, 0.5, self.training)
        return F.softmax(self.fc(x), -1)


class Misc(nn.Module):
    """Padding modules, nn.Upsample, nn.Identity, a crop by slicing, clamp, x·hardsigmoid(x), amax, squeeze twice."""
    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.c1 = nn.Conv2d(3, 16, 3)
        self.zp = nn.ZeroPad2d((0, 1, 0, 1))
        self.c2 = nn.Conv2d(16, 16, 3, stride=2)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.id = nn.Identity()
        self.act = nn.SiLU(inplace=True)
        self.pool = nn.AvgPool2d(3, 2, ceil_mode=True)
        self.c3 = nn.Conv2d(16, 32, 1)
        self.fc = nn.Linear(32, 10)
    def forward(self, x):
        x = F.relu6(self.c1(self.pad(x)))
        y = self.c2(self.zp(x))
        y = self.act(self.id(self.up(y)))
        x = torch.add(x[:, :, 1:-1, 1:-1], y[:, :, 1:-1, 1:-1])
        x = x.clamp(min=0)
        x = x.mul(F.hardsigmoid(x))
        x = self.pool(x)
        x = self.c3(x)
        x = x.amax((2, 3), keepdim=True) + F.adaptive_avg_pool2d(x, (1, 1))
        x = x.squeeze(-1).squeeze(-1)
        return self.fc(x)


class LeNetPlus(nn.Module):
    """Classic LeNet habits: padding='same', padding_mode='reflect', ceil-mode pooling, a BN without affine,
    x.relu(), F.interpolate to another map's size, nn.Upsample(size=), torch.cat(dim=-3), x.view(-1, N)."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding='same')
        self.conv1b = nn.Conv2d(6, 6, 3, padding=1, padding_mode='reflect')
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.bn = nn.BatchNorm2d(16, affine=False)
        self.skip = nn.Conv2d(6, 16, 1)
        self.up = nn.Upsample(size=(6, 6), mode='bilinear', align_corners=True)
        self.fc1 = nn.Linear(32 * 6 * 6, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.sm = nn.Softmax(dim=1)
    def forward(self, x):
        x = self.pool(torch.relu(self.conv1b(self.conv1(x))))
        s = self.skip(x)
        x = self.pool(self.bn(self.conv2(x)).relu())
        x = torch.cat([x, F.interpolate(s, size=x.shape[2:], mode='nearest') + self.up(s)], dim=-3)
        x = x.view(-1, 32 * 6 * 6)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = F.relu(self.fc2(x))
        return self.sm(self.fc3(x))


class Tokens(nn.Module):
    """InstanceNorm, ELU, a ceil-mode average pool without padding counted, then channels last: LayerNorm,
    Linear and GELU on H×W×C, back by permute, and x.reshape(-1, C)."""
    def __init__(self, C=32):
        super().__init__()
        self.C = C
        self.conv = nn.Conv2d(3, C, 5, stride=2, padding=2, bias=False)
        self.bn = nn.BatchNorm2d(C)
        self.inorm = nn.InstanceNorm2d(C, affine=True)
        self.elu = nn.ELU()
        self.ln = nn.LayerNorm(C)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(C, C)
        self.head = nn.Linear(C, 10)
    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.elu(self.inorm(x))
        x = F.avg_pool2d(x, kernel_size=3, stride=2, ceil_mode=True, count_include_pad=False)
        x = x.permute(0, 2, 3, 1)
        x = self.gelu(self.proj(self.ln(x)))
        x = x.permute(0, 3, 1, 2)
        x = F.adaptive_avg_pool2d(x, 1).reshape(-1, self.C)
        return self.head(x)


class CNBlock(nn.Module):
    """torchvision's ConvNeXt block as written there: depthwise 7×7, permute to channels last, LayerNorm,
    Linear ×4, GELU, Linear, permute back, layer scale (C×1×1), residual."""

    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute([0, 2, 3, 1]),
                                   nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, 4 * dim), nn.GELU(),
                                   nn.Linear(4 * dim, dim), Permute([0, 3, 1, 2]))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        return x + self.layer_scale * self.block(x)


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class ConvNeXt(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dim, 4, 4), Permute([0, 2, 3, 1]), nn.LayerNorm(dim, eps=1e-6),
                                  Permute([0, 3, 1, 2]))
        self.stages = nn.Sequential(CNBlock(dim), CNBlock(dim))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.LayerNorm(dim), nn.Linear(dim, 10))

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


class Fire(nn.Module):
    def __init__(self, inplanes, s, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, s, 1); self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(s, e1, 1); self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(s, e3, 3, padding=1); self.expand3x3_activation = nn.ReLU(inplace=True)
    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1)
class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin); self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth); self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)
        self.drop_rate = 0.1
    def forward(self, inputs):
        prev = torch.cat(inputs, 1) if isinstance(inputs, list) else inputs
        out = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(prev))))))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return out
class DenseBlock(nn.ModuleDict):
    def __init__(self, n, cin, growth):
        super().__init__()
        for i in range(n):
            self.add_module("denselayer%d" % (i + 1), DenseLayer(cin + i * growth, growth))
    def forward(self, init):
        features = [init]
        for name, layer in self.items():
            features.append(layer(features))
        return torch.cat(features, 1)
class DenseSqueeze(nn.Module):
    """torchvision's habits: SqueezeNet's Fire, DenseNet's layers reading a list (torch.cat([x]) of one tensor
    first), an nn.ModuleDict iterated, F.dropout(training=self.training), ceil-mode pooling."""
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 32, 3, stride=2), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, 2, ceil_mode=True), Fire(32, 8, 16, 16))
        self.dense = DenseBlock(3, 32, 8)
        self.trans = nn.Sequential(nn.BatchNorm2d(56), nn.ReLU(), nn.Conv2d(56, 28, 1), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(28, 10, 1), nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
    def forward(self, x):
        x = self.trans(self.dense(self.features(x)))
        return torch.flatten(self.classifier(x), 1)


class MLP(nn.Module):
    """MNIST's x.view(-1, 784), BatchNorm1d, Mish (TorchScript writes x·tanh(softplus(x))), Hardtanh(0, 6), F.silu."""
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256); self.fc2 = nn.Linear(256, 128); self.fc3 = nn.Linear(128, 10)
        self.bn = nn.BatchNorm1d(256); self.act = nn.Mish(); self.act2 = nn.Hardtanh(0., 6.)
    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = self.act(self.bn(self.fc1(x)))
        x = F.silu(self.act2(self.fc2(x)))
        return torch.sigmoid(self.fc3(x))


class TwoHeads(nn.Module):
    """Two outputs (an auxiliary head), x.mean(-1).mean(-1), x.mean(dim=(-2, -1)), F.leaky_relu(x, 0.1)."""
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1); self.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.aux = nn.Linear(16, 5); self.fc = nn.Linear(32, 10)
    def forward(self, x):
        x = F.leaky_relu(self.c1(x), 0.1)
        a = self.aux(x.mean(-1).mean(-1))
        x = F.relu(self.c2(x))
        return self.fc(x.mean(dim=(-2, -1))), a
