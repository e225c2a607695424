"""A small ResNet written as torchvision writes it (nested modules, a block class, downsample): for import tests."""
import torch.nn as nn
INPUT = (3, 64, 64)
class Basic(nn.Module):
    def __init__(self, cin, c, s):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, s, 1, bias=False); self.bn1 = nn.BatchNorm2d(c); self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(c)
        self.downsample = nn.Sequential(nn.Conv2d(cin, c, 1, s, bias=False), nn.BatchNorm2d(c)) if s != 1 or cin != c else None
    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))
class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False); self.bn1 = nn.BatchNorm2d(64); self.relu = nn.ReLU(); self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(Basic(64, 64, 1), Basic(64, 64, 1))
        self.layer2 = nn.Sequential(Basic(64, 128, 2), Basic(128, 128, 1))
        self.layer3 = nn.Sequential(Basic(128, 256, 2), Basic(256, 256, 1), Basic(256, 256, 1))
        self.avgpool = nn.AdaptiveAvgPool2d(1); self.fc = nn.Linear(256, 10)
    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))
